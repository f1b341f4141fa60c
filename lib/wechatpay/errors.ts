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
 * The call did not get through. Codes: `RETURN_FAIL` (return_code=FAIL; message carries return_msg),
 * `HTTP_ERROR` (non-2xx; statusCode set), `NETWORK` (connection failed), `TLS_FAILED` (mutual TLS refused),
 * `BAD_RESPONSE` (not a v2 body).
 */
export class WechatPayCommunicationError extends WechatPayError {}

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
