/**
 * Error hierarchy of the WeChat Pay v2 client, after stripe-node: every error carries a stable `code`,
 * the HTTP `statusCode` when there was a response, and the `raw` parsed fields or body.
 */
export class WechatPayError extends Error {
  readonly code: string;
  readonly statusCode?: number;
  readonly raw?: unknown;
  constructor(message: string, opts: { code: string; statusCode?: number; raw?: unknown; cause?: unknown }) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = new.target.name;
    this.code = opts.code;
    this.statusCode = opts.statusCode;
    this.raw = opts.raw;
  }
}

/**
 * The call did not get through. Codes: `RETURN_FAIL` (return_code=FAIL with a transient return_msg such
 * as 系统错误稍后再试, still failing after the client's retries; a permanent one is WechatPayRequestError),
 * `HTTP_ERROR` (non-2xx; statusCode set), `NETWORK` (connection failed), `TLS_FAILED` (mutual TLS refused),
 * `BAD_RESPONSE` (not a v2 body).
 */
export class WechatPayCommunicationError extends WechatPayError {}

/**
 * WeChat refused the request itself: return_code=FAIL with a return_msg naming what is wrong with it (a
 * missing, malformed or unknown parameter, 签名错误, a time_expire too close). Code `RETURN_FAIL`. Sending
 * the same request again gets the same answer, so the client never retries it, and nothing was done.
 */
export class WechatPayRequestError extends WechatPayError {
  readonly returnMsg: string;
  constructor(message: string, opts: { statusCode?: number; raw?: unknown; returnMsg: string }) {
    super(message, { ...opts, code: 'RETURN_FAIL' });
    this.returnMsg = opts.returnMsg;
  }
}

/**
 * return_code=FAIL texts that mean "WeChat is busy, try again" rather than "this request is wrong"
 * (系统错误稍后再试 is what merchants see: https://developers.weixin.qq.com/community/pay/doc/000c601a580e108d06aad542b51400).
 * Anything else is taken as permanent: retrying a wrong request only burns WeChat's error-rate quota.
 */
export function isTransientReturnMsg(msg: string | undefined): boolean {
  return msg !== undefined && /系统错误|系统繁忙|系统超时|稍后再试|SYSTEMERROR/i.test(msg);
}

/** The call got through but WeChat refused the business request: `result_code=FAIL`, code = err_code (e.g. ORDERPAID). */
export class WechatPayApiError extends WechatPayError {
  readonly errCodeDes?: string;
  constructor(message: string, opts: { code: string; statusCode?: number; raw?: unknown; errCodeDes?: string }) {
    super(message, opts);
    this.errCodeDes = opts.errCodeDes;
  }
}

/** A response or notify whose `sign` does not verify: never trust its contents. */
export class WechatPaySignatureError extends WechatPayError {}

/** A refund notify `req_info` that does not decrypt with md5(API key). */
export class WechatPayDecryptError extends WechatPayError {}

/** No answer within the client's timeout (after retries). */
export class WechatPayTimeoutError extends WechatPayError {}

/** Inbound XML refused before or during parsing (DOCTYPE/ENTITY, oversized, not XML). */
export class WechatPayXmlError extends WechatPayError {}
