/** What went wrong with an OAuth code exchange, from WeChat's errcode (never its errmsg, which varies). */
export type WechatOAuthErrorKind =
  | 'invalid_code'
  | 'code_used'
  | 'code_expired'
  | 'invalid_appid'
  | 'invalid_secret'
  | 'missing_code'
  | 'network'
  | 'unknown';

/** errcode to kind (docs/wechatpay-v2.md §9). -1 is WeChat's "system busy": worth a retry like a network error. */
export const OAUTH_ERRCODE_KINDS: Record<number, WechatOAuthErrorKind> = {
  40029: 'invalid_code',
  40163: 'code_used',
  42003: 'code_expired',
  40013: 'invalid_appid',
  40125: 'invalid_secret',
  41008: 'missing_code',
  [-1]: 'network',
};

/**
 * An official-account OAuth failure. `errcode` is WeChat's (or -1 when WeChat could not be reached);
 * `kind` is what the app branches on (code_used: restart OAuth once, e.g. after a page refresh).
 * https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
 */
export class WechatOAuthError extends Error {
  readonly errcode: number;
  readonly kind: WechatOAuthErrorKind;
  readonly errmsg?: string;
  constructor(message: string, opts: { errcode: number; kind?: WechatOAuthErrorKind; errmsg?: string; cause?: unknown }) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'WechatOAuthError';
    this.errcode = opts.errcode;
    this.kind = opts.kind ?? OAUTH_ERRCODE_KINDS[opts.errcode] ?? 'unknown';
    this.errmsg = opts.errmsg;
  }
}
