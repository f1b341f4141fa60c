import { randomBytes } from 'node:crypto';
import { encryptReqInfo } from '../../lib/wechatpay/crypto';
import { nonceStr, sign, type SignType } from '../../lib/wechatpay/sign';
import { formatWxDateTime, formatWxTime } from '../../lib/wechatpay/time';
import type { WxPaymentFields, WxRefundReqInfo } from '../../lib/wechatpay/types';
import { buildXml } from '../../lib/wechatpay/xml';

const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('');

/**
 * A complete payment notify as WeChat sends it, signed for real with `apiKey`. Missing fields get
 * realistic defaults (the sandbox merchant, 1 fen, JSAPI, paid now). By default there is NO sign_type
 * in the XML, as in WeChat's own notifies; the sign is still made with `signType` (default MD5).
 * Pass a field as '' to leave it out.
 */
export function signedPaymentNotify(fields: Partial<WxPaymentFields>, opts: { apiKey: string; signType?: SignType; includeSignType?: boolean }): string {
  const signType = opts.signType ?? 'MD5';
  const totalFee = fields.total_fee ?? '1';
  const all: Record<string, string | undefined> = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: 'wxd930ea5d5a258f4f',
    mch_id: '10000100',
    nonce_str: nonceStr(),
    result_code: 'SUCCESS',
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    is_subscribe: 'N',
    trade_type: 'JSAPI',
    bank_type: 'CMC',
    total_fee: totalFee,
    fee_type: 'CNY',
    cash_fee: totalFee,
    cash_fee_type: 'CNY',
    transaction_id: `4200${digits(24)}`,
    out_trade_no: `P${formatWxTime(Date.now())}${randomBytes(6).toString('hex').toUpperCase()}`,
    time_end: formatWxTime(Date.now()),
    ...fields,
  };
  delete all.sign;
  if (opts.includeSignType) all.sign_type = signType;
  else delete all.sign_type;
  return buildXml({ ...all, sign: sign(all, opts.apiKey, signType) });
}

/**
 * A refund notify as WeChat sends it: outer XML (unsigned) whose req_info is `<root>` encrypted with
 * AES-256-ECB under md5(apiKey). Missing req_info fields get realistic defaults (a full 1-fen refund
 * that succeeded now).
 */
export function encryptedRefundNotify(info: Partial<WxRefundReqInfo>, opts: { apiKey: string; appId: string; mchId: string }): string {
  const fee = info.refund_fee ?? '1';
  const root: Record<string, string | undefined> = {
    transaction_id: `4200${digits(24)}`,
    out_trade_no: `P${formatWxTime(Date.now())}${randomBytes(6).toString('hex').toUpperCase()}`,
    refund_id: `5030${digits(25)}`,
    out_refund_no: `R${formatWxTime(Date.now())}${randomBytes(6).toString('hex').toUpperCase()}`,
    total_fee: info.total_fee ?? fee,
    refund_fee: fee,
    settlement_refund_fee: fee,
    refund_status: 'SUCCESS',
    success_time: formatWxDateTime(Date.now()),
    refund_recv_accout: '支付用户的零钱',
    refund_account: 'REFUND_SOURCE_RECHARGE_FUNDS',
    refund_request_source: 'API',
    ...info,
  };
  const plain = buildXml(root).replace(/^<xml>/, '<root>').replace(/<\/xml>$/, '</root>');
  return buildXml({
    return_code: 'SUCCESS',
    appid: opts.appId,
    mch_id: opts.mchId,
    nonce_str: nonceStr(),
    req_info: encryptReqInfo(plain, opts.apiKey),
  });
}

/** A v2 response body as WeChat's server sends it: return_code SUCCESS, signed with `signType`. */
export function signedResponse(fields: Record<string, string | undefined>, opts: { apiKey: string; signType?: SignType; appId?: string; mchId?: string }): string {
  const all: Record<string, string | undefined> = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: opts.appId ?? 'wxd930ea5d5a258f4f',
    mch_id: opts.mchId ?? '10000100',
    nonce_str: nonceStr(),
    result_code: 'SUCCESS',
    ...fields,
  };
  return buildXml({ ...all, sign: sign(all, opts.apiKey, opts.signType ?? 'MD5') });
}
