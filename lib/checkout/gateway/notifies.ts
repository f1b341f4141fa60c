import { getConfig } from '../../config';
import { nowIso } from '../../db';
import { WechatPayError } from '../../wechatpay/errors';
import { parsePaymentNotify, parseRefundNotify } from '../../wechatpay/notify';
import { parseWxTime } from '../../wechatpay/time';
import type { RefundVerdict } from './refunds';

/** A payment notify that is verified, ours, and says the buyer paid, in the domain's words. */
export interface NotifiedPayment {
  outTradeNo: string;
  transactionId: string;
  totalFee: number;
  /** cash_fee (v3 amount.payer_total): what the buyer paid, less than totalFee with a coupon; NaN when unreadable. */
  cashFee?: number;
  openid: string | null;
  /** ISO UTC from time_end, when WeChat gave a valid one. */
  paidAt?: string;
  /** fee_type / cash_fee_type as sent (absent means CNY); applyPayment refuses anything else. */
  feeType?: string;
  cashFeeType?: string;
}

/** Why a notify is refused; `outTradeNo`/`outRefundNo` when the body named one (for the timeline). */
export interface NotifyRefusal {
  ok: false;
  code: string;
  text: string;
  /**
   * True when the notify proved it is WeChat's before it was refused (the payment sign held, the refund's
   * req_info decrypted): WeChat's word, kept in full on the order's timeline. False for what anyone can
   * send as often as they like (unreadable, oversized, bad or missing sign): only counted, bounded.
   */
  verified: boolean;
  outTradeNo?: string | null;
  outRefundNo?: string | null;
}

/**
 * An API v3 checkout without a v2 key (WECHATPAY_API_KEY unset) cannot verify a v2 XML notify: it is
 * refused, unverified, before anything is parsed. An empty key must never be used to check a sign.
 */
const NO_V2_KEY: NotifyRefusal = {
  ok: false, code: 'V2_NOT_CONFIGURED', text: 'a v2 XML notify, but this checkout runs API v3 without WECHATPAY_API_KEY: it cannot be verified', outTradeNo: null, verified: false,
};

/**
 * Verifies and reads a payment notify body: refuses DOCTYPE/ENTITY/oversized/not-XML, then checks the
 * sign with the payload's sign_type or else the configured one (WeChat's payment notify omits it), then
 * return_code, appid, mch_id and result_code. Nothing is parsed into the domain before the signature holds.
 */
export function readPaymentNotify(raw: string): { ok: true; payment: NotifiedPayment } | NotifyRefusal {
  const config = getConfig();
  if (!config.apiKey) return NO_V2_KEY;
  let fields;
  try {
    fields = parsePaymentNotify(raw, { apiKey: config.apiKey, signType: config.signType });
  } catch (e) {
    const code = e instanceof WechatPayError ? e.code : 'XML_MALFORMED';
    const seen = e instanceof WechatPayError && e.raw && typeof e.raw === 'object' ? (e.raw as Record<string, string>) : {};
    return { ok: false, code, text: e instanceof Error ? e.message : 'unreadable notify', outTradeNo: seen.out_trade_no || null, verified: PAYMENT_AFTER_SIGN.has(code) };
  }
  const otn = fields.out_trade_no;
  if (fields.appid !== config.appId) return { ok: false, code: 'APPID_MISMATCH', text: `appid ${fields.appid} is not ours`, outTradeNo: otn, verified: true };
  if (fields.mch_id !== config.mchId) return { ok: false, code: 'MCHID_MISMATCH', text: `mch_id ${fields.mch_id} is not ours`, outTradeNo: otn, verified: true };
  if (fields.result_code !== 'SUCCESS') {
    return { ok: false, code: 'RESULT_FAIL', text: `result_code=${fields.result_code} ${fields.err_code ?? ''}: not a successful payment, nothing applied`, outTradeNo: otn, verified: true };
  }
  const paidMs = fields.time_end ? parseWxTime(fields.time_end) : undefined;
  return {
    ok: true,
    payment: {
      outTradeNo: otn,
      transactionId: fields.transaction_id ?? '',
      totalFee: Number(fields.total_fee),
      cashFee: fenField(fields.cash_fee),
      openid: fields.openid || null,
      paidAt: paidMs === undefined ? undefined : nowIso(paidMs),
      feeType: fields.fee_type,
      cashFeeType: fields.cash_fee_type,
    },
  };
}

/** A v2 fen field: absent stays undefined, anything but digits is NaN (applyPayment refuses it, saying which). */
export function fenField(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  return /^\d{1,12}$/.test(v) ? Number(v) : Number.NaN;
}

/** A refund notify's verdict, decrypted and checked; the ids and amounts are matched to the stored refund by applyRefundResult. */
export interface NotifiedRefund {
  outRefundNo: string;
  outTradeNo: string;
  /** The paid attempt's transaction_id. */
  transactionId: string;
  status: Exclude<RefundVerdict, 'PROCESSING'>;
  refundId?: string;
  refundFee: number;
  /** total_fee: the paid attempt's amount, when sent. */
  totalFee?: number;
  /** refund_recv_accout (WeChat's spelling): where the money went, e.g. 支付用户的零钱. */
  receivedAccount?: string;
}

const VERDICTS: RefundVerdict[] = ['SUCCESS', 'REFUNDCLOSE', 'CHANGE'];

/**
 * lib/wechatpay/notify.ts codes raised only after the proof: parsePaymentNotify checks return_code and
 * the required fields once the sign held; parseRefundNotify checks req_info's fields once it decrypted
 * (its RETURN_FAIL is read from the unsigned outer XML, before decrypting, so it is not here).
 */
const PAYMENT_AFTER_SIGN = new Set(['RETURN_FAIL', 'NOTIFY_FIELDS']);
const REFUND_AFTER_DECRYPT = new Set(['NOTIFY_FIELDS']);
const FEN = /^\d{1,10}$/;

/**
 * Reads a refund notify. The outer XML is unsigned: what authenticates it is that req_info decrypts
 * with md5(API key). `stored` is what the timeline keeps: the body plus the decrypted fields.
 *
 * out_trade_no, transaction_id and refund_fee are required fields of req_info (chapter 9_16): a notify
 * without them cannot be matched to our refund beyond its out_refund_no, so it is refused.
 */
export function readRefundNotify(raw: string): ({ ok: true; refund: NotifiedRefund } | NotifyRefusal) & { stored: string } {
  const config = getConfig();
  if (!config.apiKey) return { ...NO_V2_KEY, stored: raw };
  let outer: Record<string, string>;
  let info: Record<string, string | undefined>;
  try {
    ({ outer, info } = parseRefundNotify(raw, { apiKey: config.apiKey }));
  } catch (e) {
    const code = e instanceof WechatPayError ? e.code : 'XML_MALFORMED';
    return { ok: false, code, text: e instanceof Error ? e.message : 'unreadable refund notify', stored: raw, verified: REFUND_AFTER_DECRYPT.has(code) };
  }
  const stored = `${raw}\n<!-- req_info decrypted: ${JSON.stringify(info)} -->`;
  const ids = { outRefundNo: info.out_refund_no ?? null, outTradeNo: info.out_trade_no ?? null };
  const refuse = (code: string, text: string) => ({ ok: false as const, code, text, ...ids, stored, verified: true });
  if (outer.appid !== config.appId) return refuse('APPID_MISMATCH', `appid ${outer.appid} is not ours`);
  if (outer.mch_id !== config.mchId) return refuse('MCHID_MISMATCH', `mch_id ${outer.mch_id} is not ours`);
  const status = info.refund_status as RefundVerdict;
  if (!VERDICTS.includes(status)) return refuse('BAD_FIELDS', `refund_status "${info.refund_status}" unknown`);
  const missing = ['out_refund_no', 'out_trade_no', 'transaction_id', 'refund_fee'].filter((k) => !info[k]);
  if (missing.length > 0) return refuse('BAD_FIELDS', `req_info lacks ${missing.join(', ')}: the refund cannot be matched`);
  for (const k of ['refund_fee', 'total_fee']) {
    if (info[k] !== undefined && !FEN.test(info[k]!)) return refuse('BAD_FIELDS', `${k} "${info[k]}" is not integer fen`);
  }
  return {
    ok: true,
    refund: {
      outRefundNo: info.out_refund_no!,
      outTradeNo: info.out_trade_no!,
      transactionId: info.transaction_id!,
      status: status as NotifiedRefund['status'],
      refundId: info.refund_id,
      refundFee: Number(info.refund_fee),
      totalFee: info.total_fee === undefined ? undefined : Number(info.total_fee),
      receivedAccount: info.refund_recv_accout,
    },
    stored,
  };
}
