import { WechatPayApiError } from '../errors';

/**
 * A v3 error answer: HTTP 4xx/5xx with JSON `{code, message, detail?}`. `code` is WeChat's (PARAM_ERROR,
 * ORDER_NOT_EXIST, SIGN_ERROR, ...), `detail` as sent (PARAM_ERROR names the field in `detail.field`).
 * A WechatPayApiError, so lib/checkout handles both protocols' refusals the same way.
 */
export class WechatPayV3ApiError extends WechatPayApiError {
  readonly detail?: unknown;
  constructor(message: string, opts: { code: string; statusCode: number; raw?: unknown; detail?: unknown }) {
    super(message, { code: opts.code, statusCode: opts.statusCode, raw: opts.raw, errCodeDes: message });
    this.detail = opts.detail;
  }
}

/** Codes that mean "try the very same request again" (besides HTTP 5xx and network failures). */
export const RETRYABLE_CODES = new Set(['SYSTEM_ERROR', 'SYSTEMERROR']);

/** Reads an error body into a WechatPayV3ApiError; a body that is not v3 JSON still gives a typed error. */
export function v3ErrorFrom(what: string, status: number, body: string): WechatPayV3ApiError {
  let parsed: { code?: unknown; message?: unknown; detail?: unknown } = {};
  try {
    const j = JSON.parse(body) as unknown;
    if (j && typeof j === 'object') parsed = j as typeof parsed;
  } catch {
    /* not JSON: an HTML 502 from a proxy, say */
  }
  const code = typeof parsed.code === 'string' && parsed.code ? parsed.code : `HTTP_${status}`;
  const message = typeof parsed.message === 'string' ? parsed.message : body.slice(0, 200);
  return new WechatPayV3ApiError(`${what}: HTTP ${status} ${code} ${message}`.trim(), { code, statusCode: status, raw: parsed.code ? parsed : body.slice(0, 2000), detail: parsed.detail });
}
