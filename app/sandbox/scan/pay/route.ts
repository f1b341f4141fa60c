import { sandboxOff } from '@/lib/sandbox/guard';
import { seeOther } from '@/lib/sandbox/http';
import { findByTarget, type PayResult, payOrder } from '@/lib/sandbox/payer';

/** The scan page's buttons: same code path as POST /sandbox/sim/pay, then back to the page. */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const form = await req.formData();
  const codeUrl = String(form.get('code_url') ?? '');
  const result = String(form.get('result') ?? 'SUCCESS') as PayResult;
  const back = (extra: string) => seeOther(`/sandbox/scan?code_url=${encodeURIComponent(codeUrl)}&${extra}`);
  if (!['SUCCESS', 'FAIL', 'CANCEL'].includes(result)) return back('error=bad+result');
  const order = await findByTarget({ code_url: codeUrl });
  if (!order) return back('error=unknown+code_url');
  const r = await payOrder(order, result, String(form.get('openid') ?? '') || undefined);
  return r.ok ? back(`done=${result}`) : back(`error=${encodeURIComponent(r.message)}`);
}
