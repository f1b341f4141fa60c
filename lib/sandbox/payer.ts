import { formatWxTime } from '../wechatpay/time';
import { sandboxDb } from './db';
import { nowIso } from '../db';
import { enqueueDelivery } from './deliveries';
import { newTransactionId } from './ids';
import { type SandboxOrder } from './orders';
import { paymentNotifyXml } from './notify-body';
import { findMerchant } from './merchants';
import { v3IdentityOf } from './v3/identity';
import { v3PaymentNotifyBody } from './v3/notify-body';
import { DEFAULT_USER_ID } from './schema';
import { type Coupon, newCouponId } from './coupon';
import { DEFAULT_BANK_TYPE } from './bank-type';
import { ensureOpenid, userByOpenid } from './users';

/** What the buyer does: pays, fails (the bank refused: PAYERROR, final), cancels, or is still paying (USERPAYING). */
export type PayResult = 'SUCCESS' | 'FAIL' | 'CANCEL' | 'USERPAYING';

/** Every PayResult, for the routes that read one. */
export const PAY_RESULTS: readonly PayResult[] = ['SUCCESS', 'FAIL', 'CANCEL', 'USERPAYING'];

/**
 * The states a buyer can still pay from. PAYERROR is not one: WeChat treats it as final ("PAYERROR--支付失败
 * ... 上面这些是终态", a WeChat Pay community answer), so the merchant must order again under a new out_trade_no.
 */
const PAYABLE = ['NOTPAY', 'USERPAYING'] as const;

/** Why a PAYERROR trade refuses another payment. */
export const PAYERROR_MESSAGE = '该订单支付失败，请使用新的商户订单号重新下单';
export type PayOutcome =
  | { ok: true; out_trade_no: string; state: string; transaction_id?: string }
  | { ok: false; status: number; code: string; message: string };

export async function findByTarget(t: { prepay_id?: string; code_url?: string }): Promise<SandboxOrder | undefined> {
  const db = await sandboxDb();
  if (t.prepay_id) return db.selectFrom('sandbox_orders').selectAll().where('prepay_id', '=', t.prepay_id).executeTakeFirst();
  if (t.code_url) return db.selectFrom('sandbox_orders').selectAll().where('code_url', '=', t.code_url).executeTakeFirst();
  return undefined;
}

/** Why this order cannot be paid right now, or undefined. */
export function unpayableReason(o: SandboxOrder, now = Date.now()): { code: string; message: string } | undefined {
  if (o.state === 'SUCCESS' || o.state === 'REFUND') return { code: 'ORDERPAID', message: '该订单已支付' };
  if (o.state === 'CLOSED') return { code: 'ORDERCLOSED', message: '该订单已关闭' };
  if (o.state === 'PAYERROR') return { code: 'PAYERROR', message: PAYERROR_MESSAGE };
  if (o.prepay_expires_at <= nowIso(now)) return { code: 'PREPAY_EXPIRED', message: 'prepay_id已过期（2小时）' };
  if (o.expires_at && o.expires_at <= nowIso(now)) return { code: 'ORDER_EXPIRED', message: '订单已过支付期限（time_expire）' };
  return undefined;
}

/**
 * The buyer acts on a prepay_id or code_url, as in WeChat: SUCCESS pays (transaction id, time_end in
 * UTC+8, a notify queued: v3 JSON for an order placed over v3, sign_type RSA, else v2 XML), FAIL leaves a
 * PAYERROR nobody can pay any more (no notify: WeChat notifies successes only), USERPAYING leaves the
 * trade in payment (it may still succeed or fail), CANCEL changes nothing.
 * The JSAPI payer is the order's openid; a NATIVE payer is whoever scanned (`openid`, else the default user).
 * The state change is conditional, so two concurrent payments of one order pay it once.
 * A `coupon` pays part of total_fee: the buyer pays the rest (cash_fee), and it must leave at least 1 fen.
 * `bankType` is what paid (OTHERS: the wallet balance, as WeChat reports anything but a bank card).
 */
export async function payOrder(order: SandboxOrder, result: PayResult, openid?: string, coupon?: Coupon, bankType = DEFAULT_BANK_TYPE): Promise<PayOutcome> {
  const db = await sandboxDb();
  const refuse = unpayableReason(order);
  if (refuse) return { ok: false, status: 409, ...refuse };
  if (coupon && coupon.fee >= order.total_fee) {
    return { ok: false, status: 400, code: 'COUPON_TOO_LARGE', message: `coupon_fee ${coupon.fee} must be less than total_fee ${order.total_fee} (the buyer pays at least 1 fen)` };
  }
  let payer: string;
  if (order.trade_type === 'JSAPI') {
    if (openid && openid !== order.openid) return { ok: false, status: 409, code: 'OPENID_MISMATCH', message: '该订单属于另一个微信用户（openid不一致）' };
    payer = order.openid!;
  } else {
    payer = openid ?? (await ensureOpenid(db, DEFAULT_USER_ID, order.appid));
  }
  const user = await userByOpenid(order.appid, payer);
  if (!user) return { ok: false, status: 400, code: 'OPENID_UNKNOWN', message: `openid ${payer} 不是本公众号下的用户` };
  if (result === 'CANCEL') return { ok: true, out_trade_no: order.out_trade_no, state: order.state };
  const now = Date.now();
  if (result === 'FAIL' || result === 'USERPAYING') {
    const state = result === 'FAIL' ? 'PAYERROR' : 'USERPAYING';
    const r = await db.updateTable('sandbox_orders').set({ state, updated_at: nowIso(now) })
      .where('mch_id', '=', order.mch_id).where('out_trade_no', '=', order.out_trade_no).where('state', 'in', [...PAYABLE]).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return { ok: false, status: 409, code: 'ORDERPAID', message: '该订单已支付或已关闭' };
    return { ok: true, out_trade_no: order.out_trade_no, state };
  }
  const paid: Partial<SandboxOrder> = {
    state: 'SUCCESS',
    openid: payer,
    transaction_id: newTransactionId(now),
    time_end: formatWxTime(now),
    bank_type: bankType,
    is_subscribe: user.is_subscribe,
    coupon_fee: coupon?.fee ?? null,
    coupon_type: coupon?.type ?? null,
    coupon_id: coupon ? newCouponId() : null,
    paid_at: nowIso(now),
    updated_at: nowIso(now),
  };
  const r = await db.updateTable('sandbox_orders').set(paid)
    .where('mch_id', '=', order.mch_id).where('out_trade_no', '=', order.out_trade_no).where('state', 'in', [...PAYABLE]).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return { ok: false, status: 409, code: 'ORDERPAID', message: '该订单已支付或已关闭' };
  const updated = { ...order, ...paid } as SandboxOrder;
  // Signed (v3: encrypted) with the order's merchant's keys. A merchant removed from the file since is not notified.
  const merchant = await findMerchant(order.mch_id, db);
  if (merchant) {
    const body = updated.sign_type === 'RSA' ? v3PaymentNotifyBody(updated, await v3IdentityOf(merchant)) : paymentNotifyXml(updated, merchant.apiKey);
    await enqueueDelivery(db, { kind: 'pay', mchId: order.mch_id, outTradeNo: order.out_trade_no, url: order.notify_url, body });
  }
  return { ok: true, out_trade_no: order.out_trade_no, state: 'SUCCESS', transaction_id: updated.transaction_id! };
}
