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

/** A request value as the caller gives it: numbers (total_fee) are sent as their decimal text. */
export type WxRequestValue = string | number | undefined;

/** Fields every signed v2 response carries when return_code=SUCCESS. */
export interface WxResponseBase {
  return_code: string;
  return_msg?: string;
  appid?: string;
  mch_id?: string;
  nonce_str?: string;
  sign?: string;
  result_code?: string;
  err_code?: string;
  err_code_des?: string;
  [extra: string]: string | undefined;
}

/**
 * unifiedorder request without what the client adds (appid, mch_id, nonce_str, sign_type, sign).
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
 */
export interface WxUnifiedOrderRequest {
  body: string;
  out_trade_no: string;
  total_fee: number | string;
  spbill_create_ip: string;
  notify_url: string;
  trade_type: 'JSAPI' | 'NATIVE' | 'MWEB' | 'APP';
  openid?: string;
  product_id?: string;
  time_start?: string;
  time_expire?: string;
  attach?: string;
  detail?: string;
  device_info?: string;
  fee_type?: string;
  goods_tag?: string;
  limit_pay?: string;
  scene_info?: string;
  [extra: string]: WxRequestValue;
}

/** unifiedorder response (verified): prepay_id for JSAPI, code_url for NATIVE, mweb_url for MWEB. */
export interface WxUnifiedOrderResponse extends WxResponseBase {
  result_code: string;
  trade_type?: string;
  prepay_id?: string;
  code_url?: string;
  mweb_url?: string;
}

/** orderquery by out_trade_no or transaction_id. https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_2 */
export type WxOrderQueryRequest = { out_trade_no: string; transaction_id?: undefined } | { transaction_id: string; out_trade_no?: undefined };

/** orderquery response (verified): trade_state plus, when paid, the notify's payment fields. */
export interface WxOrderQueryResponse extends WxResponseBase {
  result_code: string;
  trade_state?: string;
  trade_state_desc?: string;
  out_trade_no?: string;
  transaction_id?: string;
  openid?: string;
  trade_type?: string;
  total_fee?: string;
  /** ISO 4217, absent means CNY. */
  fee_type?: string;
  cash_fee?: string;
  cash_fee_type?: string;
  time_end?: string;
  attach?: string;
  bank_type?: string;
}

/** closeorder. https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_3 */
export interface WxCloseOrderRequest {
  out_trade_no: string;
}

/** closeorder response (verified). */
export interface WxCloseOrderResponse extends WxResponseBase {
  result_code: string;
}

/** refund (mutual TLS). https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_4 */
export interface WxRefundRequest {
  out_trade_no?: string;
  transaction_id?: string;
  out_refund_no: string;
  total_fee: number | string;
  refund_fee: number | string;
  refund_desc?: string;
  notify_url?: string;
  refund_fee_type?: string;
  refund_account?: string;
  [extra: string]: WxRequestValue;
}

/** refund response (verified): accepted, not yet done (the refund notify or refundquery says when). */
export interface WxRefundResponse extends WxResponseBase {
  result_code: string;
  transaction_id?: string;
  out_trade_no?: string;
  out_refund_no?: string;
  refund_id?: string;
  refund_fee?: string;
  total_fee?: string;
  cash_fee?: string;
}

/** refundquery by one of the four ids. https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_5 */
export interface WxRefundQueryRequest {
  out_refund_no?: string;
  refund_id?: string;
  out_trade_no?: string;
  transaction_id?: string;
  offset?: number | string;
}

/** refundquery response (verified): refund_count and per-refund `*_$n` fields (refund_status_0...). */
export interface WxRefundQueryResponse extends WxResponseBase {
  result_code: string;
  refund_count?: string;
  total_fee?: string;
  out_trade_no?: string;
  transaction_id?: string;
}

/** downloadbill. https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6 */
export interface WxDownloadBillRequest {
  /** yyyyMMdd (UTC+8). */
  bill_date: string;
  bill_type?: 'ALL' | 'SUCCESS' | 'REFUND' | 'RECHARGE_REFUND';
}

/**
 * One data row of a bill, keyed by the English names of the Chinese header (amounts in yuan, as text).
 * Columns the bill type lacks are absent; `columns` keeps every cell under its Chinese header.
 */
export interface WxBillRow {
  trade_time?: string;
  appid?: string;
  mch_id?: string;
  sub_mch_id?: string;
  device_info?: string;
  transaction_id?: string;
  out_trade_no?: string;
  openid?: string;
  trade_type?: string;
  trade_state?: string;
  bank_type?: string;
  fee_type?: string;
  settlement_total_fee?: string;
  coupon_fee?: string;
  refund_id?: string;
  out_refund_no?: string;
  refund_fee?: string;
  coupon_refund_fee?: string;
  refund_type?: string;
  refund_status?: string;
  body?: string;
  attach?: string;
  service_charge?: string;
  rate?: string;
  total_fee?: string;
  apply_refund_fee?: string;
  rate_remark?: string;
  columns: Record<string, string>;
}

/** The bill's summary row (amounts in yuan, as text); `columns` keeps it under its Chinese header. */
export interface WxBillSummary {
  total_count?: string;
  settlement_total_fee?: string;
  refund_fee?: string;
  coupon_refund_fee?: string;
  service_charge?: string;
  total_fee?: string;
  apply_refund_fee?: string;
  columns: Record<string, string>;
}

/** A parsed downloadbill answer. */
export interface WxBill {
  header: string[];
  rows: WxBillRow[];
  summary: WxBillSummary;
}

/** getBrandWCPayRequest parameters, case exactly as the bridge wants them. */
export interface WxJsapiParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'MD5' | 'HMAC-SHA256';
  paySign: string;
}
