import type { FaultApi } from './faults';

/**
 * The request fields WeChat Pay v2 documents for each API (a normal merchant, not a service provider):
 * unifiedorder https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1, orderquery 9_2, closeorder
 * 9_3, refund 9_4, refundquery 9_5, downloadbill 9_6. WeChat refuses any other field with an unsigned
 * return_code=FAIL `不识别的参数<name>` (merchants report it, e.g. `不识别的参数auth_code` when a micropay
 * field reaches unifiedorder). Empty elements are ignored, as WeChat drops them from the signature too.
 */
const COMMON = ['appid', 'mch_id', 'nonce_str', 'sign', 'sign_type'];
const KNOWN: Record<FaultApi, Set<string>> = {
  unifiedorder: new Set([
    ...COMMON, 'device_info', 'body', 'detail', 'attach', 'out_trade_no', 'fee_type', 'total_fee', 'spbill_create_ip',
    'time_start', 'time_expire', 'goods_tag', 'notify_url', 'trade_type', 'product_id', 'limit_pay', 'openid', 'receipt',
    'profit_sharing', 'scene_info',
  ]),
  orderquery: new Set([...COMMON, 'transaction_id', 'out_trade_no']),
  closeorder: new Set([...COMMON, 'out_trade_no']),
  // op_user_id: long gone from the page but still sent by older SDKs, and still accepted.
  refund: new Set([...COMMON, 'transaction_id', 'out_trade_no', 'out_refund_no', 'total_fee', 'refund_fee', 'refund_fee_type', 'refund_desc', 'refund_account', 'notify_url', 'op_user_id']),
  refundquery: new Set([...COMMON, 'transaction_id', 'out_trade_no', 'out_refund_no', 'refund_id', 'offset']),
  downloadbill: new Set([...COMMON, 'device_info', 'bill_date', 'bill_type', 'tar_type']),
};

/** The first non-empty field of the request that `api` does not know, in the order sent; undefined when all are known. */
export function unknownField(api: FaultApi, fields: Record<string, string>): string | undefined {
  return Object.keys(fields).find((k) => fields[k] !== '' && !KNOWN[api].has(k));
}
