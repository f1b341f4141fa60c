import type { SandboxDb } from './db';
import type { SandboxOrdersTable } from './schema';
import type { WxFields } from '../wechatpay/sign';
import { cashFee, couponFields } from './coupon';

export type SandboxOrder = SandboxOrdersTable;

/** A prepay_id (and the code_url beside it) lives 2 hours, as WeChat documents. */
export const PREPAY_TTL_MS = 2 * 60 * 60 * 1000;

export async function findOrder(db: SandboxDb, mchId: string, by: { out_trade_no?: string; transaction_id?: string }): Promise<SandboxOrder | undefined> {
  let q = db.selectFrom('sandbox_orders').selectAll().where('mch_id', '=', mchId);
  if (by.transaction_id) q = q.where('transaction_id', '=', by.transaction_id);
  else if (by.out_trade_no) q = q.where('out_trade_no', '=', by.out_trade_no);
  else return undefined;
  return q.executeTakeFirst();
}

export function isPaid(o: SandboxOrder): boolean {
  return o.state === 'SUCCESS' || o.state === 'REFUND';
}

/**
 * The payment fields WeChat sends in the notify and in a paid orderquery (WxJava WxPayOrderNotifyResult):
 * the same set in both, so a merchant can apply either the same way. With a coupon, cash_fee is what
 * the buyer paid (less than total_fee) and the coupon fields follow (./coupon.ts).
 */
export function paymentFields(o: SandboxOrder): WxFields {
  return {
    device_info: o.device_info ?? undefined,
    openid: o.openid ?? undefined,
    is_subscribe: o.is_subscribe ?? 'N',
    trade_type: o.trade_type,
    bank_type: o.bank_type ?? 'OTHERS',
    total_fee: String(o.total_fee),
    fee_type: 'CNY',
    ...couponFields(o),
    cash_fee: String(cashFee(o)),
    cash_fee_type: 'CNY',
    transaction_id: o.transaction_id ?? undefined,
    out_trade_no: o.out_trade_no,
    attach: o.attach ?? undefined,
    time_end: o.time_end ?? undefined,
  };
}

export const STATE_DESC: Record<string, string> = {
  NOTPAY: '订单未支付',
  USERPAYING: '用户支付中',
  SUCCESS: '支付成功',
  REFUND: '转入退款',
  CLOSED: '订单已关闭',
  PAYERROR: '支付失败(其他原因，如银行返回失败)',
};
