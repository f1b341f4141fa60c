import { json, sandboxOff } from '@/lib/sandbox/guard';
import { readJson } from '@/lib/sandbox/http';
import { findByTarget, PAY_RESULTS, type PayResult, payOrder } from '@/lib/sandbox/payer';
import { readCoupon } from '@/lib/sandbox/coupon';
import { readBankType } from '@/lib/sandbox/bank-type';

/**
 * The buyer paying in WeChat: JSON {prepay_id} or {code_url}, result SUCCESS (default) | FAIL | CANCEL | USERPAYING,
 * openid?, coupon_fee? (fen a coupon pays; the buyer pays the rest), coupon_type? (CASH | NO_CASH) and
 * bank_type? (what paid: OTHERS, the default, or a card such as CMB_CREDIT).
 */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const b = (await readJson(req)) as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object') return json({ ok: false, code: 'BAD_REQUEST', message: 'body must be JSON' }, 400);
  const prepay_id = typeof b.prepay_id === 'string' ? b.prepay_id : undefined;
  const code_url = typeof b.code_url === 'string' ? b.code_url : undefined;
  if (!prepay_id === !code_url) return json({ ok: false, code: 'BAD_REQUEST', message: 'give exactly one of prepay_id or code_url' }, 400);
  const result = (b.result ?? 'SUCCESS') as PayResult;
  if (!PAY_RESULTS.includes(result)) return json({ ok: false, code: 'BAD_REQUEST', message: 'result must be SUCCESS, FAIL, CANCEL or USERPAYING' }, 400);
  if (b.openid !== undefined && typeof b.openid !== 'string') return json({ ok: false, code: 'BAD_REQUEST', message: 'openid must be a string' }, 400);
  const coupon = readCoupon(b);
  if (!coupon.ok) return json({ ok: false, code: 'BAD_REQUEST', message: coupon.message }, 400);
  const bank = readBankType(b.bank_type);
  if (!bank.ok) return json({ ok: false, code: 'BAD_REQUEST', message: bank.message }, 400);
  const order = await findByTarget({ prepay_id, code_url });
  if (!order) return json({ ok: false, code: 'NOT_FOUND', message: prepay_id ? 'unknown prepay_id' : 'unknown code_url' }, 404);
  const r = await payOrder(order, result, b.openid as string | undefined, coupon.coupon, bank.bankType);
  return r.ok ? json(r) : json(r, r.status);
}
