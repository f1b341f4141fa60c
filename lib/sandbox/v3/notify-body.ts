import { randomUUID } from 'node:crypto';
import { encryptResource } from '../../wechatpay/v3/aead';
import { formatRfc3339Cst } from '../../wechatpay/v3/time';
import type { SandboxOrder } from '../orders';
import { STATE_DESC } from '../orders';
import type { SandboxRefundsTable } from '../schema';
import type { V3Identity } from './identity';
import { cashFee, promotionDetail } from '../coupon';

/** The v3 trade type of a sandbox order (MWEB is v3's H5). */
const tradeType = (o: SandboxOrder) => o.trade_type;

/**
 * A trade as v3 shows it (the query answer and the TRANSACTION.SUCCESS resource): the same order row
 * v2 reads, in v3's JSON shape. Amounts are integer fen; success_time RFC 3339 in UTC+8.
 */
export function transactionJson(o: SandboxOrder): Record<string, unknown> {
  const paid = o.state === 'SUCCESS' || o.state === 'REFUND';
  return {
    appid: o.appid,
    mchid: o.mch_id,
    out_trade_no: o.out_trade_no,
    ...(paid ? { transaction_id: o.transaction_id, trade_type: tradeType(o), bank_type: o.bank_type ?? 'OTHERS', success_time: formatRfc3339Cst(Date.parse(o.paid_at!)), payer: { openid: o.openid } } : {}),
    trade_state: o.state,
    trade_state_desc: STATE_DESC[o.state] ?? o.state,
    attach: o.attach ?? '',
    // payer_total is what the buyer paid: less than total when a coupon paid part (promotion_detail).
    amount: paid ? { total: o.total_fee, payer_total: cashFee(o), currency: 'CNY', payer_currency: 'CNY' } : { total: o.total_fee, currency: 'CNY', payer_currency: 'CNY' },
    ...(paid && promotionDetail(o) ? { promotion_detail: promotionDetail(o) } : {}),
  };
}

/** A refund as v3 shows it (refund answer and query). */
export function refundJson(r: SandboxRefundsTable, o: SandboxOrder): Record<string, unknown> {
  return {
    refund_id: r.refund_id,
    out_refund_no: r.out_refund_no,
    transaction_id: o.transaction_id,
    out_trade_no: o.out_trade_no,
    channel: 'ORIGINAL',
    user_received_account: '支付用户零钱',
    ...(r.success_at ? { success_time: formatRfc3339Cst(Date.parse(r.success_at)) } : {}),
    create_time: formatRfc3339Cst(Date.parse(r.created_at)),
    status: r.status,
    funds_account: 'AVAILABLE',
    amount: { total: r.total_fee, refund: r.refund_fee, payer_total: r.total_fee, payer_refund: r.refund_fee, settlement_total: r.total_fee, settlement_refund: r.refund_fee, discount_refund: 0, currency: 'CNY' },
  };
}

function envelope(id: V3Identity, eventType: string, summary: string, resourceType: 'transaction' | 'refund', plaintext: Record<string, unknown>): string {
  const enc = encryptResource(JSON.stringify(plaintext), id.raw.apiv3_key, resourceType, resourceType);
  return JSON.stringify({
    id: randomUUID(),
    create_time: formatRfc3339Cst(Date.now()),
    resource_type: 'encrypt-resource',
    event_type: eventType,
    summary,
    resource: { original_type: resourceType, algorithm: enc.algorithm, ciphertext: enc.ciphertext, associated_data: enc.associated_data, nonce: enc.nonce },
  });
}

/** TRANSACTION.SUCCESS for a paid order, its resource encrypted with its merchant's APIv3 key (AAD "transaction"). */
export function v3PaymentNotifyBody(o: SandboxOrder, id: V3Identity): string {
  return envelope(id, 'TRANSACTION.SUCCESS', '支付成功', 'transaction', transactionJson(o));
}

/** REFUND.SUCCESS (or ABNORMAL / CLOSED) for a settled refund (AAD "refund"). */
export function v3RefundNotifyBody(r: SandboxRefundsTable, o: SandboxOrder, id: V3Identity): string {
  const status: string = r.status;
  const summary = status === 'SUCCESS' ? '退款成功' : status === 'CLOSED' ? '退款关闭' : '退款异常';
  return envelope(id, `REFUND.${status}`, summary, 'refund', {
    mchid: o.mch_id,
    out_trade_no: o.out_trade_no,
    transaction_id: o.transaction_id,
    out_refund_no: r.out_refund_no,
    refund_id: r.refund_id,
    refund_status: status,
    ...(r.success_at ? { success_time: formatRfc3339Cst(Date.parse(r.success_at)) } : {}),
    user_received_account: '支付用户零钱',
    amount: { total: r.total_fee, refund: r.refund_fee, payer_total: r.total_fee, payer_refund: r.refund_fee },
  });
}

/** True for a delivery body in v3 JSON (the notifier signs those per attempt and accepts 200/204). */
export function isV3Body(body: string): boolean {
  return body.startsWith('{');
}
