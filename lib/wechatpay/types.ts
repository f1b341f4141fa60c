/**
 * WeChat Pay v2 wire types: snake_case exactly as on the wire, every value text. App code reshapes
 * them once at the boundary (lib/checkout) into camelCase types.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1 (unifiedorder) and neighbours.
 */

/** Payment notify and paid orderquery: the fields WeChat sends (WxJava WxPayOrderNotifyResult). */
export interface WxPaymentFields {
  return_code: string;
  return_msg?: string;
  appid: string;
  mch_id: string;
  nonce_str?: string;
  sign?: string;
  sign_type?: string;
  result_code: string;
  err_code?: string;
  err_code_des?: string;
  device_info?: string;
  openid: string;
  is_subscribe?: string;
  trade_type: string;
  trade_state?: string;
  trade_state_desc?: string;
  bank_type?: string;
  total_fee: string;
  settlement_total_fee?: string;
  fee_type?: string;
  cash_fee?: string;
  cash_fee_type?: string;
  coupon_fee?: string;
  coupon_count?: string;
  transaction_id: string;
  out_trade_no: string;
  attach?: string;
  time_end: string;
  [extra: string]: string | undefined;
}

/** Decrypted refund notify `req_info` (root `<root>`). */
export interface WxRefundReqInfo {
  transaction_id?: string;
  out_trade_no: string;
  refund_id?: string;
  out_refund_no: string;
  total_fee?: string;
  settlement_total_fee?: string;
  refund_fee?: string;
  settlement_refund_fee?: string;
  refund_status: string;
  success_time?: string;
  refund_recv_accout?: string;
  refund_account?: string;
  refund_request_source?: string;
  [extra: string]: string | undefined;
}
