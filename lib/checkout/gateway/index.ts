/**
 * The WeChat gateway: the one place lib/checkout talks to WeChat Pay and reshapes its answers (calls,
 * notifies, JSAPI parameters) into the domain's camelCase words. The rest of lib/checkout never imports
 * lib/wechatpay. Two protocols behind one interface (protocol.ts: API v2 in payments.ts/refunds.ts,
 * API v3 in v3.ts), chosen by WECHATPAY_API_VERSION; notifies of either are told apart by their body.
 * Errors are the clients' typed ones, re-exported here: `WechatPayApiError` carries WeChat's code
 * (err_code on v2, the JSON code on v3, reshaped to the v2 word where the domain branches on it);
 * every other `WechatPayError` is transport, signature or format trouble.
 */
export { MWEB_URL_TTL_MS, noAuth, outcomeUnknown, QueryNotSentError, type PaymentQuery, type PlacedOrder, type PlaceOrder, type QueryOptions } from './payments';
export { type RefundCall, type RefundQuery, type RefundVerdict } from './refunds';
export {
  attemptSignType, closeAtWechat, jsapiPayParams, payProtocol, placeOrder, queryPayment, queryRefund, refundAtWechat,
  type AttemptSignType, type JsapiPayParams, type PayProtocol,
} from './protocol';
export { CLOSE_MIN_AGE_MS } from './payments';
export { refundRefusal, type RefundRefusal } from './refunds';
export { readPaymentNotify, readRefundNotify, type NotifiedPayment, type NotifiedRefund, type NotifyRefusal } from './notifies';
export { isV3Head, notifyAck, notifyFail, readAnyPaymentNotify, readAnyRefundNotify, type NotifyAnswer, type NotifyHeaders } from './notifies-v3';
export { NOTIFY_SUCCESS_XML, notifyFailXml } from '../../wechatpay/notify';
export { WechatPayApiError, WechatPayError, WechatPayRequestError } from '../../wechatpay/errors';
export { MAX_XML_BYTES } from '../../wechatpay/xml';
export type { SignType } from '../../wechatpay/sign';
