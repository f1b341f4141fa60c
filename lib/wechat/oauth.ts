import { OAUTH_ERRCODE_KINDS, WechatOAuthError } from './errors';

export type OAuthScope = 'snsapi_base' | 'snsapi_userinfo';

/** OAuth `state`: 1-128 characters of [a-zA-Z0-9], as WeChat allows. */
export function isValidState(s: unknown): s is string {
  return typeof s === 'string' && /^[a-zA-Z0-9]{1,128}$/.test(s);
}

/**
 * The authorize URL a buyer's WeChat browser is sent to: parameters in the documented order, redirect_uri
 * URL-encoded, ending in #wechat_redirect. snsapi_base is silent and yields only the openid.
 * https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
 */
export function authorizeUrl(opts: { openBaseUrl: string; appId: string; redirectUri: string; scope: OAuthScope; state: string }): string {
  if (!isValidState(opts.state)) throw new RangeError('OAuth state must be 1-128 characters of [a-zA-Z0-9]');
  if (opts.scope !== 'snsapi_base' && opts.scope !== 'snsapi_userinfo') throw new RangeError(`OAuth scope must be snsapi_base or snsapi_userinfo, got "${opts.scope}"`);
  if (!/^https?:\/\//.test(opts.redirectUri)) throw new RangeError(`OAuth redirect_uri must be an absolute http(s) URL, got "${opts.redirectUri}"`);
  const q = [
    `appid=${encodeURIComponent(opts.appId)}`,
    `redirect_uri=${encodeURIComponent(opts.redirectUri)}`,
    'response_type=code',
    `scope=${opts.scope}`,
    `state=${opts.state}`,
  ].join('&');
  return `${opts.openBaseUrl.replace(/\/+$/, '')}/connect/oauth2/authorize?${q}#wechat_redirect`;
}

/** A successful code exchange, camelCased once here. */
export interface OAuthToken {
  openid: string;
  scope: string;
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  /** `is_snapshotuser: 1`: a virtual user on a snapshot page; never treat as a real buyer. */
  isSnapshotUser: boolean;
  unionid?: string;
}

type OAuthFetch = (url: string, init: { method: string; signal: AbortSignal; headers: Record<string, string> }) => Promise<{ status: number; text(): Promise<string> }>;

/**
 * Exchanges a single-use OAuth code (5 min) for the openid. Errors are WechatOAuthError, classified by
 * errcode: 40029 invalid_code, 40163 code_used, 42003 code_expired, 40013 invalid_appid, 40125
 * invalid_secret, 41008 missing_code; unreachable/timeout/non-JSON is kind network (errcode -1).
 * https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
 */
export async function exchangeCode(opts: { apiBaseUrl: string; appId: string; secret: string; code: string; fetch?: OAuthFetch; timeoutMs?: number }): Promise<OAuthToken> {
  if (!opts.code || opts.code.trim() === '') throw new WechatOAuthError('OAuth callback without a code', { errcode: 41008 });
  const url = `${opts.apiBaseUrl.replace(/\/+$/, '')}/sns/oauth2/access_token?appid=${encodeURIComponent(opts.appId)}&secret=${encodeURIComponent(opts.secret)}&code=${encodeURIComponent(opts.code)}&grant_type=authorization_code`;
  const f = opts.fetch ?? (globalThis.fetch as unknown as OAuthFetch);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  let status: number;
  let text: string;
  try {
    const res = await f(url, { method: 'GET', signal: ctrl.signal, headers: { accept: 'application/json' } });
    status = res.status;
    text = await res.text();
  } catch (e) {
    const why = ctrl.signal.aborted ? `no answer within ${timeoutMs} ms` : (e as Error).message;
    throw new WechatOAuthError(`OAuth code exchange failed: ${why}`, { errcode: -1, kind: 'network', cause: e });
  } finally {
    clearTimeout(timer);
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
    if (typeof body !== 'object' || body === null) throw new Error('not an object');
  } catch {
    throw new WechatOAuthError(`OAuth code exchange: HTTP ${status}, body is not JSON`, { errcode: -1, kind: 'network' });
  }
  const errcode = Number(body.errcode ?? 0);
  if (errcode !== 0) {
    const errmsg = typeof body.errmsg === 'string' ? body.errmsg : undefined;
    const kind = OAUTH_ERRCODE_KINDS[errcode] ?? 'unknown';
    throw new WechatOAuthError(`OAuth code exchange: errcode ${errcode} (${kind})${errmsg ? `: ${errmsg}` : ''}`, { errcode, kind, errmsg });
  }
  const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
  const openid = str('openid');
  if (status < 200 || status >= 300 || !openid) {
    throw new WechatOAuthError(`OAuth code exchange: HTTP ${status} without an openid`, { errcode: -1, kind: status >= 500 ? 'network' : 'unknown' });
  }
  return {
    openid,
    scope: str('scope') ?? '',
    accessToken: str('access_token') ?? '',
    expiresIn: Number(body.expires_in ?? 0),
    refreshToken: str('refresh_token') ?? '',
    isSnapshotUser: Number(body.is_snapshotuser ?? 0) === 1,
    ...(str('unionid') ? { unionid: str('unionid') } : {}),
  };
}
