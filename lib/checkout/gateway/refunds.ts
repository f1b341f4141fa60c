import { getConfig } from '../../config';
import { WechatPayApiError, WechatPayError, WechatPayRequestError } from '../../wechatpay/errors';
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

/**
 * How a failed refund call ended, for deciding what happens to the refund:
 * - `final`: WeChat refused this refund for good (a business err_code such as INVALID_REQUEST, or a
 *   return_code=FAIL on the request itself: a bad parameter, 签名错误). Nothing was refunded; sending
 *   the same out_refund_no again gets the same refusal, so the refund ends failed with this reason.
 * - `retry`: WeChat may take the very same request later (SYSTEMERROR, BIZERR_NEED_RETRY, NOTENOUGH,
 *   FREQUENCY_LIMITED, 系统错误稍后再试, HTTP 5xx, no answer). The refund stays processing and is
 *   re-sent with the SAME out_refund_no, which WeChat treats as the same refund: never a second one.
 */
export type RefundRefusal = { kind: 'final' | 'retry'; code: string; reason: string };

/** err_codes of the refund API after which the same request may succeed later (docs/wechatpay-v2.md s.7). */
const REFUND_RETRY_LATER = new Set(['SYSTEMERROR', 'BIZERR_NEED_RETRY', 'FREQUENCY_LIMITED', 'NOTENOUGH']);

/**
 * What the merchant should know beside WeChat's own text. NOTENOUGH: the refund is paid from the
 * merchant's available balance ("基本账户余额不足，请充值后重新发起"; community answer: new-fund-flow merchants
 * refund from the available balance); USER_ACCOUNT_ABNORMAL is final: the buyer's account is closed or
 * frozen, so no retry can deliver it the original way.
 */
const REFUND_HINTS: Record<string, string> = {
  NOTENOUGH: 'the WeChat Pay balance is too low for this refund: top it up in the merchant portal; the same refund is re-sent automatically',
  FREQUENCY_LIMITED: 'WeChat limits how fast older orders are refunded; the same refund is re-sent automatically',
  BIZERR_NEED_RETRY: 'WeChat asked for the same refund to be sent again; it is re-sent automatically',
  USER_ACCOUNT_ABNORMAL: "the buyer's WeChat Pay account is abnormal or closed, so WeChat cannot refund the original way: refund the buyer another way (bank transfer, cash); nothing was refunded",
};

/** Classifies an error thrown by refundAtWechat (see RefundRefusal). */
export function refundRefusal(e: unknown): RefundRefusal {
  if (e instanceof WechatPayApiError) {
    const hint = REFUND_HINTS[e.code] ? ` (${REFUND_HINTS[e.code]})` : '';
    return { kind: REFUND_RETRY_LATER.has(e.code) ? 'retry' : 'final', code: e.code, reason: `${e.errCodeDes ?? e.message}${hint}` };
  }
  if (e instanceof WechatPayRequestError) return { kind: 'final', code: e.code, reason: e.returnMsg || e.message };
  return { kind: 'retry', code: e instanceof WechatPayError ? e.code : 'ERROR', reason: e instanceof Error ? e.message : String(e) };
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
