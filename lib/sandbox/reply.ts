import type { AppConfig } from '../config';
import type { SandboxMerchant } from './merchants';
import { nonceStr, sign, type SignType, type WxFields } from '../wechatpay/sign';
import { buildXml } from '../wechatpay/xml';

/** What a sandbox API answers; the route handler turns it into a Response unchanged. */
export interface MchReply {
  status: number;
  body: string;
  contentType: string;
  /** DROP_RESPONSE fault: the call ran, but the connection is cut before its answer reaches the caller. */
  dropped?: boolean;
  /** Set by failReply: the return_msg of a return_code=FAIL answer, recorded for the dashboard. */
  refusal?: string;
}

/** A verified request: its fields, the merchant its mch_id names (whose key signed it), and the sign_type every answer must be signed with. */
export interface MchCtx {
  fields: Record<string, string>;
  signType: SignType;
  merchant: SandboxMerchant;
  config: AppConfig;
}

const XML = 'text/xml; charset=utf-8';

/**
 * `return_code=FAIL`: WeChat refused the request itself (transport, signature, or a parameter it cannot
 * take: missing, malformed, unknown, a time_expire too close). Carries no sign (docs/wechatpay-v2.md §1)
 * and only a text return_msg: no err_code. Resending the same request gets the same answer.
 */
export function failReply(returnMsg: string): MchReply {
  return { status: 200, contentType: XML, body: buildXml({ return_code: 'FAIL', return_msg: returnMsg }), refusal: returnMsg };
}

/** A signed business answer: return_code SUCCESS, then result_code SUCCESS with `extra`. */
export function okReply(ctx: MchCtx, extra: WxFields): MchReply {
  return signed(ctx, { result_code: 'SUCCESS', ...extra });
}

/** A signed business refusal: result_code FAIL with err_code and err_code_des. */
export function errReply(ctx: MchCtx, errCode: string, des: string): MchReply {
  return signed(ctx, { result_code: 'FAIL', err_code: errCode, err_code_des: des });
}

function signed(ctx: MchCtx, body: WxFields): MchReply {
  const fields: WxFields = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: ctx.merchant.appId,
    mch_id: ctx.merchant.mchId,
    nonce_str: nonceStr(),
    ...body,
  };
  // WeChat's answers do not echo sign_type; they are signed with the request's type.
  fields.sign = sign(fields, ctx.merchant.apiKey, ctx.signType);
  return { status: 200, contentType: XML, body: buildXml(fields) };
}

/**
 * A missing parameter. WeChat answers parameter trouble before any business logic, as an unsigned
 * return_code=FAIL with a text return_msg (not a signed LACK_PARAMS), as merchants report: e.g.
 * `{return_msg=不识别的参数auth_code, return_code=FAIL}`, `<return_code>FAIL</return_code><return_msg>0参数格式错误</return_msg>`
 * (developers.weixin.qq.com community threads found with `search`).
 */
export function lackParams(field: string): MchReply {
  return failReply(`缺少参数${field}`);
}

/** A malformed parameter (format, length, notify_url, time): unsigned return_code=FAIL, like lackParams. */
export function paramError(des: string): MchReply {
  return failReply(des);
}

/**
 * An mch_id the sandbox does not know: WeChat's documented MCHID_NOT_EXIST (商户号不存在, "请检查MCHID是否
 * 正确"). Unsigned: there is no merchant key to sign with (how live WeChat signs it is UNVERIFIED,
 * docs/sandbox.md "Conservative choices"). A result_code=FAIL, not a return_code=FAIL.
 */
export function unknownMerchantReply(): MchReply {
  return { status: 200, contentType: XML, body: buildXml({ return_code: 'SUCCESS', return_msg: 'OK', result_code: 'FAIL', err_code: 'MCHID_NOT_EXIST', err_code_des: '商户号不存在' }) };
}
