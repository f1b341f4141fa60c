import { sandboxDb } from './db';
import { nowIso } from '../db';
import { findOrder, isPaid, paymentFields, STATE_DESC } from './orders';
import { type MchCtx, type MchReply, errReply, lackParams, okReply } from './reply';

/** POST /pay/orderquery by transaction_id (preferred, as WeChat) or out_trade_no. */
export async function orderQuery(ctx: MchCtx): Promise<MchReply> {
  const f = ctx.fields;
  if (!f.transaction_id && !f.out_trade_no) return lackParams('out_trade_no');
  const db = await sandboxDb();
  const o = await findOrder(db, ctx.merchant.mchId, { transaction_id: f.transaction_id, out_trade_no: f.out_trade_no });
  if (!o) return errReply(ctx, 'ORDERNOTEXIST', '订单不存在');
  const common = { trade_state: o.state, trade_state_desc: STATE_DESC[o.state] };
  if (isPaid(o)) return okReply(ctx, { ...paymentFields(o), ...common });
  return okReply(ctx, {
    device_info: o.device_info ?? undefined,
    out_trade_no: o.out_trade_no,
    attach: o.attach ?? undefined,
    total_fee: String(o.total_fee),
    trade_type: o.trade_type,
    ...common,
  });
}

/**
 * WeChat's closeorder page: "订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟"
 * (https://pay.weixin.qq.com/doc/v2/merchant/4011987803). Its error list has no code for it; the
 * answer is UNVERIFIED. The sandbox refuses with a signed SYSTEMERROR (whose documented remedy, "系统异常，
 * 请重新调用该API", is the right one: call again later) carrying the page's sentence, so a merchant that
 * takes any closeorder failure as "closed" is caught. SANDBOX_CLOSE_MIN_AGE_S (default 300) sets the age.
 */
export const CLOSE_TOO_EARLY_DES = '订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟';

/** POST /pay/closeorder: unpaid trades at least SANDBOX_CLOSE_MIN_AGE_S old; ORDERPAID and ORDERCLOSED first. */
export async function closeOrder(ctx: MchCtx): Promise<MchReply> {
  const f = ctx.fields;
  if (!f.out_trade_no) return lackParams('out_trade_no');
  const db = await sandboxDb();
  const o = await findOrder(db, ctx.merchant.mchId, { out_trade_no: f.out_trade_no });
  if (!o) return errReply(ctx, 'ORDERNOTEXIST', '订单不存在');
  if (isPaid(o)) return errReply(ctx, 'ORDERPAID', '订单已支付，不能发起关单');
  if (o.state === 'CLOSED') return errReply(ctx, 'ORDERCLOSED', '订单已关闭，无法重复关闭');
  if (Date.now() - Date.parse(o.created_at) < ctx.config.sandboxCloseMinAgeS * 1000) return errReply(ctx, 'SYSTEMERROR', CLOSE_TOO_EARLY_DES);
  const r = await db
    .updateTable('sandbox_orders')
    .set({ state: 'CLOSED', updated_at: nowIso() })
    .where('mch_id', '=', o.mch_id)
    .where('out_trade_no', '=', o.out_trade_no)
    .where('state', 'in', ['NOTPAY', 'USERPAYING', 'PAYERROR'])
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) {
    // Paid (or closed) between our read and the update: answer what it is now.
    const now = await findOrder(db, ctx.merchant.mchId, { out_trade_no: f.out_trade_no });
    return now && isPaid(now) ? errReply(ctx, 'ORDERPAID', '订单已支付，不能发起关单') : errReply(ctx, 'ORDERCLOSED', '订单已关闭，无法重复关闭');
  }
  return okReply(ctx, {});
}
