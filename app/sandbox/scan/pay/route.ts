import { sandboxOff } from '@/lib/sandbox/guard';
import { seeOther } from '@/lib/sandbox/http';
import { findByTarget, PAY_RESULTS, type PayResult, payOrder } from '@/lib/sandbox/payer';
import { readCoupon } from '@/lib/sandbox/coupon';

/** The scan page's buttons (and its coupon fields): same code path as POST /sandbox/sim/pay, then back to the page. */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const form = await req.formData();
  const codeUrl = String(form.get('code_url') ?? '');
  const result = String(form.get('result') ?? 'SUCCESS') as PayResult;
  const back = (extra: string) => seeOther(`/sandbox/scan?code_url=${encodeURIComponent(codeUrl)}&${extra}`);
  if (!PAY_RESULTS.includes(result)) return back('error=bad+result');
  // The type select always submits; it counts only when a coupon amount was typed.
  const couponFee = String(form.get('coupon_fee') ?? '').trim();
  const coupon = readCoupon(couponFee ? { coupon_fee: couponFee, coupon_type: form.get('coupon_type') ?? undefined } : {});
  if (!coupon.ok) return back(`error=${encodeURIComponent(coupon.message)}`);
  const order = await findByTarget({ code_url: codeUrl });
  if (!order) return back('error=unknown+code_url');
  const r = await payOrder(order, result, String(form.get('openid') ?? '') || undefined, coupon.coupon);
  return r.ok ? back(`done=${result}`) : back(`error=${encodeURIComponent(r.message)}`);
}
