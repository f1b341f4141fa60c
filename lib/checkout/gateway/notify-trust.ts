/*
 * Which notify refusals come from a notify that proved it is WeChat's. readPaymentNotify and
 * readRefundNotify (./notifies.ts) refuse before the proof (unreadable, oversized, bad or missing sign,
 * req_info that does not decrypt) and after it (wrong appid or mch_id, result FAIL, fields missing from a
 * signed body). Only the latter are WeChat's word; the former anyone can send, as often as they like.
 */

/** Codes raised only once the payment notify's signature held (lib/wechatpay/notify.ts, ./notifies.ts). */
const PAYMENT_AFTER_SIGN = new Set(['RETURN_FAIL', 'NOTIFY_FIELDS', 'APPID_MISMATCH', 'MCHID_MISMATCH', 'RESULT_FAIL']);
/**
 * Codes raised only once req_info decrypted with md5(API key). The refund notify's RETURN_FAIL is NOT
 * here: the outer XML is unsigned and return_code is read before decrypting.
 */
const REFUND_AFTER_DECRYPT = new Set(['NOTIFY_FIELDS', 'APPID_MISMATCH', 'MCHID_MISMATCH', 'BAD_FIELDS']);

/**
 * True when a refusal code of `readPaymentNotify` (kind `notify`) or `readRefundNotify` (kind
 * `refund_notify`) means the notify was authenticated first. A code not listed counts as unverified,
 * the safe side: it is then aggregated and rate-limited rather than stored in full.
 */
export function refusalVerified(kind: 'notify' | 'refund_notify', code: string): boolean {
  return (kind === 'notify' ? PAYMENT_AFTER_SIGN : REFUND_AFTER_DECRYPT).has(code);
}
