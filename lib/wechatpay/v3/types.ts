/**
 * WeChat Pay API v3 wire types: snake_case JSON exactly as on the wire (numbers are numbers here, unlike
 * v2). lib/checkout/gateway reshapes them once into camelCase.
 * https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_1_1.shtml and the pages after it.
 */

/** `amount` of an order request: integer fen, CNY. */
export interface WxV3Amount {
  total: number;
  currency?: 'CNY';
}

/** Fields shared by the JSAPI, Native and H5 order requests (appid and mchid are added by the client). */
export interface WxV3OrderBase {
  /** At most 127 bytes. */
  description: string;
  /** 6-32 of [0-9A-Za-z_-|*]. */
  out_trade_no: string;
  /** RFC 3339 in UTC+8, e.g. 2026-11-24T20:00:00+08:00 (formatRfc3339Cst). */
  time_expire?: string;
  attach?: string;
  notify_url: string;
  amount: WxV3Amount;
  scene_info?: { payer_client_ip: string; h5_info?: { type: 'Wap' | 'iOS' | 'Android' } };
}

/** POST /v3/pay/transactions/jsapi. */
export interface WxV3JsapiOrder extends WxV3OrderBase {
  payer: { openid: string };
}

/** POST /v3/pay/transactions/native. */
export type WxV3NativeOrder = WxV3OrderBase;

/** POST /v3/pay/transactions/h5: scene_info with h5_info is required. */
export interface WxV3H5Order extends WxV3OrderBase {
  scene_info: { payer_client_ip: string; h5_info: { type: 'Wap' | 'iOS' | 'Android' } };
}

/** trade_state of a v3 transaction. */
export type WxV3TradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR';

/** A transaction: the query answer and the decrypted TRANSACTION.SUCCESS notify resource. */
export interface WxV3Transaction {
  appid: string;
  mchid: string;
  out_trade_no: string;
  transaction_id?: string;
  trade_type?: string;
  trade_state: WxV3TradeState | string;
  trade_state_desc?: string;
  bank_type?: string;
  attach?: string;
  /** RFC 3339. */
  success_time?: string;
  payer?: { openid?: string };
  amount?: { total?: number; payer_total?: number; currency?: string; payer_currency?: string };
}

/** POST /v3/refund/domestic/refunds. */
export interface WxV3RefundRequest {
  out_trade_no?: string;
  transaction_id?: string;
  out_refund_no: string;
  reason?: string;
  notify_url?: string;
  amount: { refund: number; total: number; currency: 'CNY' };
}

/** Refund status: SUCCESS, CLOSED, PROCESSING, ABNORMAL (WeChat's v2 CHANGE). */
export type WxV3RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';

/** The refund answer and refund query answer. */
export interface WxV3Refund {
  refund_id: string;
  out_refund_no: string;
  transaction_id?: string;
  out_trade_no?: string;
  channel?: string;
  user_received_account?: string;
  success_time?: string;
  create_time?: string;
  status: WxV3RefundStatus | string;
  funds_account?: string;
  amount: { total: number; refund: number; payer_total?: number; payer_refund?: number; currency?: string };
}

/** The decrypted resource of a REFUND.* notify. */
export interface WxV3RefundNotifyResource {
  mchid: string;
  out_trade_no: string;
  transaction_id: string;
  out_refund_no: string;
  refund_id: string;
  refund_status: WxV3RefundStatus | string;
  success_time?: string;
  user_received_account?: string;
  amount: { total: number; refund: number; payer_total?: number; payer_refund?: number };
}

/** GET /v3/bill/tradebill answer: the file is fetched from download_url and checked against the hash. */
export interface WxV3BillLink {
  hash_type: 'SHA1' | string;
  hash_value: string;
  download_url: string;
}

/** One entry of GET /v3/certificates. */
export interface WxV3CertificateEntry {
  serial_no: string;
  effective_time: string;
  expire_time: string;
  encrypt_certificate: { algorithm: string; nonce: string; associated_data: string; ciphertext: string };
}

/** A v3 notify body. */
export interface WxV3NotifyBody {
  id: string;
  create_time: string;
  event_type: string;
  resource_type: string;
  summary?: string;
  resource: { algorithm: string; ciphertext: string; associated_data?: string; nonce: string; original_type?: string };
}

/** getBrandWCPayRequest parameters on v3: signType "RSA", paySign with the merchant private key. */
export interface WxV3JsapiParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}
