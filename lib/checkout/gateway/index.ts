/**
 * The WeChat gateway: the one place lib/checkout talks to WeChat Pay and reshapes its answers (calls,
 * notifies, JSAPI parameters) into the domain's camelCase words. The rest of lib/checkout never imports
 * lib/wechatpay. Errors are the client's typed ones, re-exported here: `WechatPayApiError` carries
 * WeChat's err_code as `code`; every other `WechatPayError` is transport, signature or format trouble.
 */
export { CLOSE_MIN_AGE_MS, closeAtWechat, jsapiPayParams, outcomeUnknown, placeOrder, queryPayment, type JsapiPayParams, type PaymentQuery, type PlaceOrder } from './payments';
export { queryRefund, refundAtWechat, refundRefusal, type RefundCall, type RefundQuery, type RefundRefusal, type RefundVerdict } from './refunds';
export { readPaymentNotify, readRefundNotify, type NotifiedPayment, type NotifiedRefund, type NotifyRefusal } from './notifies';
export { NOTIFY_SUCCESS_XML, notifyFailXml } from '../../wechatpay/notify';
export { WechatPayApiError, WechatPayError, WechatPayRequestError } from '../../wechatpay/errors';
export { MAX_XML_BYTES } from '../../wechatpay/xml';
export type { SignType } from '../../wechatpay/sign';
