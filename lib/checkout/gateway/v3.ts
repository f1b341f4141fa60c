import { getConfig } from '../../config';
import { nowIso } from '../../db';
import { WechatPayApiError } from '../../wechatpay/errors';
import { formatRfc3339Cst, jsapiParamsV3, loadPrivateKey, parseRfc3339, WechatPayV3Client, type WxV3Refund } from '../../wechatpay/v3';
import type { WxV3JsapiParams } from '../../wechatpay/v3';
import { queryRetries, type PaymentQuery, type PlacedOrder, type PlaceOrder, type QueryOptions } from './payments';
import type { RefundCall, RefundQuery, RefundVerdict } from './refunds';

/*
 * The v3 half of the gateway: the same domain calls as payments.ts and refunds.ts, spoken in API v3
 * (JSON, RSA). WeChat's v3 words are reshaped into the very values the v2 half returns (ORDERNOTEXIST,
 * REFUNDCLOSE, CHANGE...), so nothing above the gateway knows which protocol answered.
 */

const key = Symbol.for('wechat-checkout.pay-client-v3');
type Holder = { [key]?: WechatPayV3Client };

/** The process's v3 client, from config.v3 (the sandbox's generated keys in sandbox mode). */
export function getV3Client(): WechatPayV3Client {
  const g = globalThis as Holder;
  if (g[key]) return g[key];
  const c = getConfig();
  const v3 = c.v3;
  if (!v3) throw new Error('WECHATPAY_API_VERSION is not v3: no v3 credentials configured');
  g[key] = new WechatPayV3Client({
    appId: c.appId, mchid: c.mchId, serialNo: v3.certSerial, privateKey: v3.privateKeyPem, apiV3Key: v3.apiV3Key, baseUrl: c.mchBaseUrl,
    publicKey: v3.publicKey ? { id: v3.publicKey.id, pem: v3.publicKey.pem } : undefined, platformCertificates: v3.platformCerts,
  });
  return g[key];
}

/** Re-thrown under the v2 code the domain already handles (sync.ts: ORDERNOTEXIST means WeChat never saw it). */
function asDomainCode(e: unknown, from: string, to: string): unknown {
  if (e instanceof WechatPayApiError && e.code === from) return new WechatPayApiError(e.message, { code: to, statusCode: e.statusCode, raw: e.raw, errCodeDes: e.errCodeDes });
  return e;
}

/** JSAPI, Native or H5 order over v3: prepay_id, code_url or h5_url. */
export async function placeOrderV3(o: PlaceOrder): Promise<PlacedOrder> {
  const c = getConfig();
  const base = {
    description: o.description,
    out_trade_no: o.outTradeNo,
    time_expire: formatRfc3339Cst(Date.parse(o.expiresAt)),
    notify_url: `${c.publicBaseUrl}/api/wechatpay/notify`,
    amount: { total: o.amountFen, currency: 'CNY' as const },
    scene_info: { payer_client_ip: o.clientIp },
  };
  if (o.tradeType === 'JSAPI') {
    const r = await getV3Client().jsapi({ ...base, payer: { openid: o.openid ?? '' } });
    return { prepayId: r.prepay_id, codeUrl: null, mwebUrl: null };
  }
  if (o.tradeType === 'MWEB') {
    // scene_info.h5_info.type Wap: a mobile website (the v3 H5 order page); payer_client_ip as for every order.
    const r = await getV3Client().h5({ ...base, scene_info: { payer_client_ip: o.clientIp, h5_info: { type: 'Wap' } } });
    return { prepayId: null, codeUrl: null, mwebUrl: r.h5_url };
  }
  const r = await getV3Client().native(base);
  return { prepayId: null, codeUrl: r.code_url, mwebUrl: null };
}

/** Query by out_trade_no over v3, in PaymentQuery's words; ORDER_NOT_EXIST becomes ORDERNOTEXIST. `once`: see QueryOptions. */
export async function queryPaymentV3(outTradeNo: string, opts?: QueryOptions): Promise<PaymentQuery> {
  let t;
  try {
    t = await getV3Client().queryByOutTradeNo(outTradeNo, queryRetries(opts));
  } catch (e) {
    throw asDomainCode(e, 'ORDER_NOT_EXIST', 'ORDERNOTEXIST');
  }
  const paid = parseRfc3339(t.success_time);
  const total = t.amount?.total;
  return {
    state: t.trade_state,
    stateDesc: t.trade_state_desc,
    transactionId: t.transaction_id,
    totalFee: Number.isInteger(total) ? total : undefined,
    cashFee: t.amount?.payer_total === undefined ? undefined : Number.isInteger(t.amount.payer_total) ? t.amount.payer_total : Number.NaN,
    openid: t.payer?.openid,
    paidAt: paid === undefined ? undefined : nowIso(paid),
    feeType: t.amount?.currency,
    cashFeeType: t.amount?.payer_currency,
    raw: JSON.stringify(t),
  };
}

/** Close over v3: 204 closed; ORDERPAID paid; ORDER_CLOSED / ORDER_NOT_EXIST already closed. */
export async function closeAtWechatV3(outTradeNo: string): Promise<'closed' | 'already_closed' | 'paid'> {
  try {
    await getV3Client().close(outTradeNo);
    return 'closed';
  } catch (e) {
    if (e instanceof WechatPayApiError) {
      if (e.code === 'ORDERPAID') return 'paid';
      if (e.code === 'ORDER_CLOSED' || e.code === 'ORDER_NOT_EXIST') return 'already_closed';
    }
    throw e;
  }
}

/** v3 refund status in the domain's (v2) words: CLOSED is REFUNDCLOSE, ABNORMAL is CHANGE. */
export function v3Verdict(status: string): RefundVerdict {
  if (status === 'SUCCESS') return 'SUCCESS';
  if (status === 'CLOSED') return 'REFUNDCLOSE';
  if (status === 'ABNORMAL') return 'CHANGE';
  return 'PROCESSING';
}

/** Refund over v3: no client certificate (the request signature is the proof). */
export async function refundAtWechatV3(r: RefundCall): Promise<{ refundId?: string }> {
  const c = getConfig();
  try {
    const res = await getV3Client().refund({
      out_trade_no: r.outTradeNo,
      out_refund_no: r.outRefundNo,
      reason: r.reason || undefined,
      notify_url: `${c.publicBaseUrl}/api/wechatpay/refund-notify`,
      amount: { refund: r.refundFee, total: r.totalFee, currency: 'CNY' },
    });
    return { refundId: res.refund_id };
  } catch (e) {
    // v3's NOT_ENOUGH is v2's NOTENOUGH: the same refund is re-sent once the balance allows (refundRefusal).
    throw asDomainCode(e, 'NOT_ENOUGH', 'NOTENOUGH');
  }
}

/** Refund query over v3; null when WeChat has no such refund (RESOURCE_NOT_EXISTS). */
export async function queryRefundV3(outRefundNo: string): Promise<RefundQuery | null> {
  let r: WxV3Refund;
  try {
    r = await getV3Client().refundQuery(outRefundNo);
  } catch (e) {
    if (e instanceof WechatPayApiError && (e.code === 'RESOURCE_NOT_EXISTS' || e.code === 'ORDER_NOT_EXIST')) return null;
    throw e;
  }
  const fen = (n: unknown) => (Number.isInteger(n) ? (n as number) : undefined);
  return {
    status: v3Verdict(r.status),
    refundId: r.refund_id,
    refundFee: fen(r.amount?.refund),
    outTradeNo: r.out_trade_no,
    transactionId: r.transaction_id,
    totalFee: fen(r.amount?.total),
    receivedAccount: r.user_received_account,
    raw: JSON.stringify(r),
  };
}

/** getBrandWCPayRequest parameters on v3: signType RSA, paySign with the merchant private key. */
export function jsapiPayParamsV3(prepayId: string): WxV3JsapiParams {
  const c = getConfig();
  if (!c.v3) throw new Error('an RSA (v3) attempt needs the v3 credentials (WECHATPAY_API_VERSION=v3)');
  return jsapiParamsV3({ appId: c.appId, prepayId, privateKey: loadPrivateKey(c.v3.privateKeyPem) });
}
