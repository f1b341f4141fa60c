import type { AppConfig } from '../config';
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

/** A verified request: its fields and the sign_type every answer must be signed with. */
export interface MchCtx {
  fields: Record<string, string>;
  signType: SignType;
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
    appid: ctx.config.appId,
    mch_id: ctx.config.mchId,
    nonce_str: nonceStr(),
    ...body,
  };
  // WeChat's answers do not echo sign_type; they are signed with the request's type.
  fields.sign = sign(fields, ctx.config.apiKey, ctx.signType);
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
