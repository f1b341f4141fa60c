import { randomBytes } from 'node:crypto';
import { getConfig } from '../../config';
import { WechatOAuthError } from '../../wechat/errors';
import { authorizeUrl, exchangeCode } from '../../wechat/oauth';
import { ensureBuyerId } from './identity';

/** The session fields the OAuth round trip reads and writes (lib/session SessionData subset). */
export interface OAuthSession {
  openid?: string;
  buyerId?: string;
  oauthState?: string;
  returnTo?: string;
  oauthRetries?: number;
}

/**
 * Where to go after OAuth: only a same-origin relative path. `//evil.com`, `/\evil.com`, schemes and
 * anything that resolves to another origin fall back to `/` (an open redirect would let a phishing
 * link borrow our OAuth domain).
 *
 * The check runs on the input AND on the normalised result: `new URL()` resolves dot segments, so
 * `/.//evil.com`, `/..//evil.com` or `/%2e//evil.com` stay same-origin for the URL parser yet come out
 * as the pathname `//evil.com`, which a browser reads as a protocol-relative link to evil.com.
 * Encoded slashes and backslashes (`%2F`, `%5C`) are refused in the path too: none of our pages has
 * one, and a proxy that decodes them would turn `/%2F%2Fevil.com` into `//evil.com`.
 */
export function safeReturnTo(raw: string | null | undefined, origin: string): string {
  if (!raw || raw.length > 2000 || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/';
  if (/[\u0000-\u001f\\]/.test(raw)) return '/';
  try {
    const u = new URL(raw, origin);
    if (u.origin !== new URL(origin).origin) return '/';
    const path = u.pathname;
    if (!path.startsWith('/') || path.startsWith('//') || path.startsWith('/\\') || /%(2f|5c)/i.test(path)) return '/';
    return `${path}${u.search}`;
  } catch {
    return '/';
  }
}

/** State nonce: 32 alphanumeric characters (WeChat allows up to 128 of [a-zA-Z0-9]). */
function newOAuthState(): string {
  return randomBytes(16).toString('hex');
}

/** The redirect_uri registered with WeChat: PUBLIC_BASE_URL's OAuth callback. */
function callbackUrl(): string {
  return `${getConfig().publicBaseUrl}/api/wechat/oauth/callback`;
}

/**
 * Starts (or restarts) a silent snsapi_base round: a fresh state in the session, the authorize URL to
 * redirect to. `restart` keeps the retry count (a 40163 restart), a fresh start clears it.
 */
export function beginOAuth(session: OAuthSession, returnTo: string, restart = false): string {
  const config = getConfig();
  const state = newOAuthState();
  session.oauthState = state;
  session.returnTo = returnTo;
  if (!restart) session.oauthRetries = 0;
  ensureBuyerId(session);
  return authorizeUrl({ openBaseUrl: config.openBaseUrl, appId: config.appId, redirectUri: callbackUrl(), scope: 'snsapi_base', state });
}

/** /api/wechat/oauth/start: a fresh silent round returning to `rawReturnTo` when it is one of our own paths. */
export function startOAuth(session: OAuthSession, rawReturnTo: string | null): string {
  return beginOAuth(session, safeReturnTo(rawReturnTo, getConfig().publicBaseUrl));
}

/** Where the callback sends the buyer next, or why OAuth ended without an openid. */
export type OAuthOutcome =
  | { kind: 'done'; location: string }
  | { kind: 'restart'; location: string }
  | { kind: 'error'; reason: 'state' | 'no_code' | 'snapshot' | 'code_used' | 'upstream'; detail?: string };

/**
 * The callback: the state must be the one this session started (a forged or replayed state is refused
 * before the code is spent), the code is exchanged once, a 40163 (code already used: a refresh or a
 * double redirect) restarts OAuth once and then gives up with a clear page, and a snapshot-page user
 * (朋友圈快照页) is not taken as a buyer. The caller saves the session whatever the outcome.
 */
export async function completeOAuth(session: OAuthSession, code: string | null, state: string | null): Promise<OAuthOutcome> {
  const config = getConfig();
  const expected = session.oauthState;
  if (!state || !expected || state.length !== expected.length || state !== expected) return { kind: 'error', reason: 'state' };
  const returnTo = safeReturnTo(session.returnTo, config.publicBaseUrl);
  if (!code) {
    session.oauthState = undefined;
    return { kind: 'error', reason: 'no_code' };
  }
  try {
    const r = await exchangeCode({ apiBaseUrl: config.apiBaseUrl, appId: config.appId, secret: config.appSecret, code });
    session.oauthState = undefined;
    if (r.isSnapshotUser) return { kind: 'error', reason: 'snapshot' };
    session.openid = r.openid;
    session.oauthRetries = 0;
    session.returnTo = undefined;
    ensureBuyerId(session);
    return { kind: 'done', location: returnTo };
  } catch (e) {
    if (e instanceof WechatOAuthError && e.kind === 'code_used') {
      if (session.openid) {
        // The same redirect arrived twice and the other one already got us the openid.
        session.oauthState = undefined;
        return { kind: 'done', location: returnTo };
      }
      if ((session.oauthRetries ?? 0) < 1) {
        session.oauthRetries = (session.oauthRetries ?? 0) + 1;
        return { kind: 'restart', location: beginOAuth(session, returnTo, true) };
      }
      session.oauthState = undefined;
      return { kind: 'error', reason: 'code_used' };
    }
    session.oauthState = undefined;
    const detail = e instanceof WechatOAuthError ? `${e.errcode}` : e instanceof Error ? e.message : String(e);
    return { kind: 'error', reason: 'upstream', detail };
  }
}
