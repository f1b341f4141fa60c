import { readFileSync } from 'node:fs';
import { getConfig } from '../config';
import { WechatPayClient } from '../wechatpay/client';
import { WechatPayApiError } from '../wechatpay/errors';
import { buildXml } from '../wechatpay/xml';
import { parseWxTime } from '../wechatpay/time';
import { nowIso } from '../db';
import type { RefundVerdict } from './refund-book';

const key = Symbol.for('wechat-checkout.pay-client');
type Holder = { [key]?: WechatPayClient };

/** The process's WeChat Pay client, built once from the configuration (the sandbox's URL in sandbox mode). */
export function getPayClient(): WechatPayClient {
  const g = globalThis as Holder;
  if (g[key]) return g[key];
  const c = getConfig();
  g[key] = new WechatPayClient({
    appId: c.appId,
    mchId: c.mchId,
    apiKey: c.apiKey,
    signType: c.signType,
    baseUrl: c.mchBaseUrl,
    pfx: c.certP12Path ? readFileSync(c.certP12Path) : undefined,
    passphrase: c.mchId,
  });
  return g[key];
}

/*
 * The boundary: WeChat's snake_case answers reshaped once into what lib/checkout works with.
 */

export interface PaymentQuery {
  state: string;
  stateDesc?: string;
  transactionId?: string;
  totalFee?: number;
  openid?: string;
  /** ISO UTC from time_end. */
  paidAt?: string;
  /** The verified response, as XML, for the timeline. */
  raw: string;
}

/** orderquery by out_trade_no. Throws WechatPayApiError ORDERNOTEXIST for a trade WeChat never saw. */
export async function queryPayment(outTradeNo: string): Promise<PaymentQuery> {
  const r = await getPayClient().orderQuery({ out_trade_no: outTradeNo });
  const ms = r.time_end ? parseWxTime(r.time_end) : undefined;
  return {
    state: r.trade_state ?? 'UNKNOWN',
    stateDesc: r.trade_state_desc,
    transactionId: r.transaction_id,
    totalFee: r.total_fee !== undefined && /^\d+$/.test(r.total_fee) ? Number(r.total_fee) : undefined,
    openid: r.openid,
    paidAt: ms === undefined ? undefined : nowIso(ms),
    raw: buildXml(r),
  };
}

/** closeorder: `closed`, `already_closed` (ORDERCLOSED / ORDERNOTEXIST) or `paid` (ORDERPAID). */
export async function closeAtWechat(outTradeNo: string): Promise<'closed' | 'already_closed' | 'paid'> {
  try {
    await getPayClient().closeOrder({ out_trade_no: outTradeNo });
    return 'closed';
  } catch (e) {
    if (e instanceof WechatPayApiError) {
      if (e.code === 'ORDERPAID') return 'paid';
      if (e.code === 'ORDERCLOSED' || e.code === 'ORDERNOTEXIST') return 'already_closed';
    }
    throw e;
  }
}

export interface RefundCall {
  outTradeNo: string;
  outRefundNo: string;
  totalFee: number;
  refundFee: number;
  reason: string;
}

/** refund (mutual TLS live): accepted, not done. The notify_url brings the verdict. */
export async function refundAtWechat(r: RefundCall): Promise<{ refundId?: string }> {
  const c = getConfig();
  const res = await getPayClient().refund({
    out_trade_no: r.outTradeNo,
    out_refund_no: r.outRefundNo,
    total_fee: r.totalFee,
    refund_fee: r.refundFee,
    refund_desc: r.reason || undefined,
    notify_url: `${c.publicBaseUrl}/api/wechatpay/refund-notify`,
  });
  return { refundId: res.refund_id };
}

export interface RefundQuery {
  status: RefundVerdict;
  refundId?: string;
  refundFee?: number;
  raw: string;
}

/** refundquery by out_refund_no; null when WeChat has no such refund (REFUNDNOTEXIST). */
export async function queryRefund(outRefundNo: string): Promise<RefundQuery | null> {
  let r;
  try {
    r = await getPayClient().refundQuery({ out_refund_no: outRefundNo });
  } catch (e) {
    if (e instanceof WechatPayApiError && e.code === 'REFUNDNOTEXIST') return null;
    throw e;
  }
  const n = Number(r.refund_count ?? '0');
  for (let i = 0; i < n; i++) {
    if (r[`out_refund_no_${i}`] !== outRefundNo) continue;
    const s = r[`refund_status_${i}`];
    const status: RefundVerdict = s === 'SUCCESS' || s === 'REFUNDCLOSE' || s === 'CHANGE' ? s : 'PROCESSING';
    const fee = r[`refund_fee_${i}`];
    return { status, refundId: r[`refund_id_${i}`], refundFee: fee && /^\d+$/.test(fee) ? Number(fee) : undefined, raw: buildXml(r) };
  }
  return null;
}
