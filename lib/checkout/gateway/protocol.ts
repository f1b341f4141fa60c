import { getConfig } from '../../config';
import type { SignType } from '../../wechatpay/sign';
import * as v2pay from './payments';
import type { JsapiPayParams as V2JsapiParams, PaymentQuery, PlacedOrder, PlaceOrder, QueryOptions } from './payments';
import * as v2refund from './refunds';
import type { RefundCall, RefundQuery } from './refunds';
import { closeAtWechatV3, jsapiPayParamsV3, placeOrderV3, queryPaymentV3, queryRefundV3, refundAtWechatV3 } from './v3';
import type { WxV3JsapiParams } from '../../wechatpay/v3';

/**
 * The WeChat Pay calls the domain makes, one interface with two implementations (API v2: XML and
 * MD5/HMAC; API v3: JSON and RSA). WECHATPAY_API_VERSION picks the one for every call; answers come
 * back in the same domain words either way, so lib/checkout never asks which protocol is speaking.
 */
export interface PayProtocol {
  /** MWEB answers mwebUrl; a merchant without H5 permission is refused with NO_AUTH (noAuth). */
  placeOrder(o: PlaceOrder): Promise<PlacedOrder>;
  /** `once`: one request, no client retry (QueryOptions). */
  queryPayment(outTradeNo: string, opts?: QueryOptions): Promise<PaymentQuery>;
  /** `too_early`: WeChat refuses to close a trade in its first 5 minutes (v2's closeorder rule). */
  closeAtWechat(outTradeNo: string): Promise<'closed' | 'already_closed' | 'paid' | 'too_early'>;
  refundAtWechat(r: RefundCall): Promise<{ refundId?: string }>;
  queryRefund(outRefundNo: string): Promise<RefundQuery | null>;
}

const V2: PayProtocol = { placeOrder: v2pay.placeOrder, queryPayment: v2pay.queryPayment, closeAtWechat: v2pay.closeAtWechat, refundAtWechat: v2refund.refundAtWechat, queryRefund: v2refund.queryRefund };
const V3: PayProtocol = { placeOrder: placeOrderV3, queryPayment: queryPaymentV3, closeAtWechat: closeAtWechatV3, refundAtWechat: refundAtWechatV3, queryRefund: queryRefundV3 };

/** The implementation configured for this process. */
export function payProtocol(): PayProtocol {
  return getConfig().apiVersion === 'v3' ? V3 : V2;
}

/** How an attempt's JSAPI parameters are signed: the v2 sign type, or RSA for an attempt placed over v3. */
export type AttemptSignType = SignType | 'RSA';

/** The sign type new attempts are placed (and their JSAPI parameters signed) with. */
export function attemptSignType(): AttemptSignType {
  const c = getConfig();
  return c.apiVersion === 'v3' ? 'RSA' : c.signType;
}

/** getBrandWCPayRequest's parameters, v2 or v3 shape. */
export type JsapiPayParams = V2JsapiParams | WxV3JsapiParams;

/** unifiedorder / v3 JSAPI, Native or H5 order. */
export const placeOrder = (o: PlaceOrder) => payProtocol().placeOrder(o);
/**
 * orderquery / v3 query by out_trade_no. Throws WechatPayApiError ORDERNOTEXIST for a trade WeChat never
 * saw. `{ once: true }` sends it once, without the client's retries; past `sendBy` it is not sent at all
 * (QueryNotSentError; QueryOptions). The check is the last step before the client, which sends at once.
 */
export const queryPayment = async (outTradeNo: string, opts?: QueryOptions) => {
  v2pay.checkSendBy(outTradeNo, opts);
  return payProtocol().queryPayment(outTradeNo, opts);
};
/** closeorder / v3 close: `closed`, `already_closed`, `paid`, or `too_early` (v2: a trade under 5 minutes old). */
export const closeAtWechat = (outTradeNo: string) => payProtocol().closeAtWechat(outTradeNo);
/** refund / v3 refund: accepted, not done; the notify or a query brings the verdict. */
export const refundAtWechat = (r: RefundCall) => payProtocol().refundAtWechat(r);
/** refundquery / v3 refund query; null when WeChat has no such refund. */
export const queryRefund = (outRefundNo: string) => payProtocol().queryRefund(outRefundNo);

/**
 * The parameters for getBrandWCPayRequest, signed the way the attempt was placed: RSA for a v3
 * attempt, else the v2 sign type the unifiedorder used (anything else fails in the WeChat client).
 */
export function jsapiPayParams(prepayId: string, signType: AttemptSignType): JsapiPayParams {
  return signType === 'RSA' ? jsapiPayParamsV3(prepayId) : v2pay.jsapiPayParams(prepayId, signType);
}
