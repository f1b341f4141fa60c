import { getConfig } from '../../config';
import { WechatPayApiError } from '../../wechatpay/errors';
import { buildXml } from '../../wechatpay/xml';
import { getPayClient } from './client';

/** How WeChat says a refund ended (refundquery's refund_status, the refund notify's refund_status). */
export type RefundVerdict = 'SUCCESS' | 'REFUNDCLOSE' | 'CHANGE' | 'PROCESSING';

/** What a refund asks WeChat for, in the domain's words. */
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

/** refundquery's answer for one refund, in the domain's words; ids and amounts are present when WeChat sent them. */
export interface RefundQuery {
  status: RefundVerdict;
  refundId?: string;
  refundFee?: number;
  /** The trade the refund belongs to (the answer's top-level out_trade_no, transaction_id, total_fee). */
  outTradeNo?: string;
  transactionId?: string;
  totalFee?: number;
  /** refund_recv_accout_$n: where the money went. */
  receivedAccount?: string;
  raw: string;
}

const fen = (v: string | undefined) => (v !== undefined && /^\d{1,10}$/.test(v) ? Number(v) : undefined);

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
    return {
      status,
      refundId: r[`refund_id_${i}`],
      refundFee: fen(r[`refund_fee_${i}`]),
      outTradeNo: r.out_trade_no || undefined,
      transactionId: r.transaction_id || undefined,
      totalFee: fen(r.total_fee),
      receivedAccount: r[`refund_recv_accout_${i}`],
      raw: buildXml(r),
    };
  }
  return null;
}
