import { getConfig } from '../../config';
import { nowIso } from '../../db';
import { WechatPayApiError, WechatPayCommunicationError, WechatPayRequestError, WechatPaySignatureError, WechatPayTimeoutError } from '../../wechatpay/errors';
import { jsapiParams } from '../../wechatpay/jsapi';
import type { SignType } from '../../wechatpay/sign';
import { formatWxTime, parseWxTime } from '../../wechatpay/time';
import type { WxJsapiParams } from '../../wechatpay/types';
import { buildXml } from '../../wechatpay/xml';
import { getPayClient } from './client';
import { fenField } from './notifies';

/*
 * The boundary for payments: WeChat's snake_case requests and answers reshaped once into what
 * lib/checkout works with. Errors are the client's typed ones (see ./index.ts).
 */

/** What a unifiedorder needs, in the domain's words. */
export interface PlaceOrder {
  outTradeNo: string;
  tradeType: 'JSAPI' | 'NATIVE' | 'MWEB';
  amountFen: number;
  /** Shown to the buyer in WeChat (body): at most 127 UTF-8 bytes, see truncateUtf8. */
  description: string;
  clientIp: string;
  /** JSAPI: the payer's openid under our appid. */
  openid?: string | null;
  /** NATIVE: the product the QR is for. */
  productId?: string;
  startMs: number;
  /** ISO UTC end of the payment window (time_expire). */
  expiresAt: string;
}

/** What placing an order gives to pay with: prepay_id (JSAPI), code_url (NATIVE) or the H5 cashier URL (MWEB). */
export interface PlacedOrder {
  prepayId: string | null;
  codeUrl: string | null;
  /** MWEB: mweb_url (v3 h5_url), WeChat's H5 cashier page; valid 5 minutes from now (MWEB_URL_TTL_MS). */
  mwebUrl: string | null;
}

/**
 * How long WeChat honours an mweb_url / h5_url: "mweb_url为拉起微信支付收银台的中间页面，可通过访问该url来
 * 拉起微信客户端，完成支付，mweb_url的有效期为5分钟" (the H5 unifiedorder page); an older one opens
 * 支付请求已失效，请重新发起支付.
 */
export const MWEB_URL_TTL_MS = 5 * 60_000;

/**
 * scene_info of an H5 order, v2's JSON string: the site the buyer is on (wap_url: our public origin,
 * wap_name: its host). WeChat checks the Referer of the cashier page against the merchant's H5 domain,
 * not this; it is still required.
 */
export function mwebSceneInfo(publicBaseUrl: string): string {
  return JSON.stringify({ h5_info: { type: 'Wap', wap_url: publicBaseUrl, wap_name: new URL(publicBaseUrl).host } });
}

/** v2's unsigned return_code=FAIL texts for a product the merchant may not use (未开通, or 预开通中: still being opened). */
const NO_PRODUCT_MSG = /产品权限未开通|预开通中/;

/**
 * True when WeChat refused an order because the merchant lacks the product's permission: v2's err_code
 * NOAUTH (商户无此接口权限) and v3's 403 NO_AUTH (商户号该产品权限未开通) both arrive as NO_AUTH (see
 * placeOrder and the v3 half); live v2 mostly answers it unsigned instead, return_code=FAIL with
 * return_msg 商户号该产品权限未开通，请前往商户平台>产品中心检查后重试 (or ...预开通中...), a
 * WechatPayRequestError. For MWEB it means no H5 payment permission.
 */
export function noAuth(e: unknown): boolean {
  if (e instanceof WechatPayRequestError) return NO_PRODUCT_MSG.test(e.returnMsg);
  return e instanceof WechatPayApiError && e.code === 'NO_AUTH';
}

/** unifiedorder: the prepay_id (JSAPI), code_url (NATIVE) or mweb_url (MWEB) to pay with. */
export async function placeOrder(o: PlaceOrder): Promise<PlacedOrder> {
  const config = getConfig();
  const res = await getPayClient().unifiedOrder({
    body: o.description,
    out_trade_no: o.outTradeNo,
    total_fee: o.amountFen,
    spbill_create_ip: o.clientIp,
    notify_url: `${config.publicBaseUrl}/api/wechatpay/notify`,
    trade_type: o.tradeType,
    openid: o.tradeType === 'JSAPI' ? (o.openid ?? undefined) : undefined,
    product_id: o.tradeType === 'NATIVE' ? o.productId : undefined,
    scene_info: o.tradeType === 'MWEB' ? mwebSceneInfo(config.publicBaseUrl) : undefined,
    time_start: formatWxTime(o.startMs),
    time_expire: formatWxTime(Date.parse(o.expiresAt)),
  }).catch((e: unknown) => {
    // v2 says NOAUTH where v3 says NO_AUTH: one word for the domain (noAuth).
    if (e instanceof WechatPayApiError && e.code === 'NOAUTH') throw new WechatPayApiError(e.message, { code: 'NO_AUTH', statusCode: e.statusCode, raw: e.raw, errCodeDes: e.errCodeDes });
    throw e;
  });
  return { prepayId: res.prepay_id || null, codeUrl: res.code_url || null, mwebUrl: res.mweb_url || null };
}

/**
 * After a failed call (the client's retries included): may WeChat have done it anyway, with its answer
 * lost on the way back? True when no answer was read at all (timeout, connection dropped or reset) or
 * the answer cannot be read or trusted (not v2 XML, bad sign). False for an answer WeChat did send: a
 * business refusal (err_code; SYSTEMERROR too, after the client re-sent the same body twice as WeChat
 * asks), return_code FAIL, or an HTTP error status. For unifiedorder a true means the out_trade_no may
 * already be a trade at WeChat whose prepay_id nobody has seen.
 */
export function outcomeUnknown(e: unknown): boolean {
  if (e instanceof WechatPayTimeoutError || e instanceof WechatPaySignatureError) return true;
  return e instanceof WechatPayCommunicationError && (e.code === 'NETWORK' || e.code === 'BAD_RESPONSE');
}

/** getBrandWCPayRequest's parameters, case as WeChat wants them. */
export type JsapiPayParams = WxJsapiParams;

/**
 * The parameters the buyer's page hands to getBrandWCPayRequest: a fresh timestamp and nonce each time,
 * signed with the sign type the unifiedorder used (anything else fails in the WeChat client).
 */
export function jsapiPayParams(prepayId: string, signType: SignType): JsapiPayParams {
  const config = getConfig();
  if (!config.apiKey) throw new Error('WECHATPAY_API_KEY is not set: the JSAPI parameters of a v2 attempt cannot be signed');
  return jsapiParams({ appId: config.appId, prepayId, apiKey: config.apiKey, signType });
}

/** orderquery's answer in the domain's words. */
export interface PaymentQuery {
  state: string;
  stateDesc?: string;
  transactionId?: string;
  totalFee?: number;
  /** cash_fee (v3 amount.payer_total): what the buyer paid; less than totalFee with a coupon. */
  cashFee?: number;
  openid?: string;
  /** ISO UTC from time_end. */
  paidAt?: string;
  /** fee_type / cash_fee_type as answered (absent means CNY); applyPayment refuses anything else. */
  feeType?: string;
  cashFeeType?: string;
  /** The verified response, as XML, for the timeline. */
  raw: string;
}

/**
 * How a payment query is sent. `once`: a single request, no client retry (after a timeout, a 5xx,
 * SYSTEMERROR or a transient return_code FAIL the failure is thrown as it is): for a caller that asks
 * again on its own schedule, whose retries would be extra orderqueries inside its own window.
 */
export interface QueryOptions {
  once?: boolean;
  /**
   * Epoch ms after which the query is not sent at all (QueryNotSentError): a claimed query must leave
   * within its claim's send window, or two claims' queries could reach WeChat closer together than
   * the claims are (a busy event loop delays one more than the next).
   */
  sendBy?: number;
}

/** A claimed query that could not leave within its send window (QueryOptions.sendBy): nothing was sent to WeChat. */
export class QueryNotSentError extends Error {
  readonly code = 'QUERY_NOT_SENT';
}

/** Throws QueryNotSentError when `opts.sendBy` has passed: called right before the query goes out. */
export function checkSendBy(outTradeNo: string, opts: QueryOptions | undefined, now = Date.now()): void {
  if (opts?.sendBy !== undefined && now > opts.sendBy) {
    throw new QueryNotSentError(`orderquery for ${outTradeNo} not sent: ${now - opts.sendBy} ms past its claim's send window (a busy server); the next claim asks`);
  }
}

/** The client's per-call retries for a query sent with `opts`: 0 when once, else the client's own. */
export const queryRetries = (opts: QueryOptions | undefined) => (opts?.once ? { maxRetries: 0 } : undefined);

/** orderquery by out_trade_no. Throws WechatPayApiError ORDERNOTEXIST for a trade WeChat never saw. */
export async function queryPayment(outTradeNo: string, opts?: QueryOptions): Promise<PaymentQuery> {
  const r = await getPayClient().orderQuery({ out_trade_no: outTradeNo }, queryRetries(opts));
  const ms = r.time_end ? parseWxTime(r.time_end) : undefined;
  return {
    state: r.trade_state ?? 'UNKNOWN',
    stateDesc: r.trade_state_desc,
    transactionId: r.transaction_id,
    totalFee: r.total_fee !== undefined && /^\d+$/.test(r.total_fee) ? Number(r.total_fee) : undefined,
    cashFee: fenField(r.cash_fee),
    openid: r.openid,
    paidAt: ms === undefined ? undefined : nowIso(ms),
    feeType: r.fee_type,
    cashFeeType: r.cash_fee_type,
    raw: buildXml(r),
  };
}

/**
 * WeChat will not close a trade in its first 5 minutes ("订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟",
 * the closeorder page, https://pay.weixin.qq.com/doc/v2/merchant/4011987803). 5 minutes plus one of
 * clock skew: when a close of a younger trade fails, the merchant is told when to try again.
 */
export const CLOSE_MIN_AGE_MS = 6 * 60_000;

/**
 * The page names no error code for that refusal (UNVERIFIED); an answer that quotes the page's sentence
 * (the sandbox's SYSTEMERROR does) is taken as it. Any other failure is thrown as it is.
 */
const TOO_EARLY_DES = /不能马上调用关单|最短调用时间间隔/;

/** closeorder: `closed`, `already_closed` (ORDERCLOSED / ORDERNOTEXIST), `paid` (ORDERPAID), or `too_early` (see TOO_EARLY_DES). */
export async function closeAtWechat(outTradeNo: string): Promise<'closed' | 'already_closed' | 'paid' | 'too_early'> {
  try {
    await getPayClient().closeOrder({ out_trade_no: outTradeNo });
    return 'closed';
  } catch (e) {
    if (e instanceof WechatPayApiError) {
      if (e.code === 'ORDERPAID') return 'paid';
      if (e.code === 'ORDERCLOSED' || e.code === 'ORDERNOTEXIST') return 'already_closed';
    }
    if (e instanceof WechatPayApiError && TOO_EARLY_DES.test(e.errCodeDes ?? '')) return 'too_early';
    throw e;
  }
}

