import { isIP } from 'node:net';
import { randomBytes } from 'node:crypto';

/**
 * Who the buyer is and where they are. Pure functions over header values, so route handlers, server
 * actions and tests share them without next/* in lib/checkout.
 */

/** The session fields an order's viewer is identified by (lib/session SessionData subset). */
export interface Viewer {
  buyerId?: string;
  openid?: string;
  merchant?: boolean;
}

/** The random id that owns a buyer's orders; set once per browser session, never derived from input. */
export function newBuyerId(): string {
  return `b_${randomBytes(16).toString('base64url')}`;
}

/** Gives the session a buyer id when it has none; returns it. The caller saves the session. */
export function ensureBuyerId(session: { buyerId?: string }): string {
  if (!session.buyerId || !/^b_[A-Za-z0-9_-]{10,64}$/.test(session.buyerId)) session.buyerId = newBuyerId();
  return session.buyerId;
}

function normalizeIp(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let ip = raw.trim();
  // "[::1]:1234" and "1.2.3.4:5678" forms some proxies write
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(ip);
  if (bracket) ip = bracket[1];
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(ip)) ip = ip.slice(0, ip.lastIndexOf(':'));
  // Node reports IPv4 clients on a dual-stack socket as ::ffff:a.b.c.d; WeChat expects the IPv4 text.
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) ip = mapped[1];
  return isIP(ip) ? ip : undefined;
}

/** What spbill_create_ip falls back to when no usable address is known (WeChat requires a valid IP). */
export const FALLBACK_IP = '127.0.0.1';

/**
 * The buyer's IP for unifiedorder's spbill_create_ip, from the X-Forwarded-For header a route handler
 * or server action sees.
 *
 * Next 16's `next start` has no socket in route handlers; it writes the socket address into
 * X-Forwarded-For only when the request had none (`??=` in base-server.js), and leaves a client-sent
 * header untouched (test/e2e/checkout-desktop.test.ts pins this down over real HTTP).
 * - TRUST_PROXY=1 (behind our own proxy, which appends): the first valid entry is the client.
 * - Otherwise a real request carries exactly the one entry Next wrote. A header with several entries
 *   can only have come from the client, so it is not believed: we use FALLBACK_IP. A single forged
 *   entry cannot be told apart from Next's own; that is acceptable because the IP only feeds WeChat's
 *   risk control and never grants anything here.
 */
export function buyerIp(xForwardedFor: string | null | undefined, trustProxy: boolean): string {
  const entries = (xForwardedFor ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (trustProxy) {
    for (const e of entries) {
      const ip = normalizeIp(e);
      if (ip) return ip;
    }
    return FALLBACK_IP;
  }
  if (entries.length !== 1) return FALLBACK_IP;
  return normalizeIp(entries[0]) ?? FALLBACK_IP;
}

export type ClientKind = 'wechat-mobile' | 'wechat-desktop' | 'wecom' | 'mobile' | 'desktop';

/** How a client pays: JSAPI inside WeChat, a Native QR everywhere else. */
export type PayMode = 'jsapi' | 'native';

/**
 * In sandbox mode the dashboard's `sandbox_wechat_browser=1` cookie makes a desktop browser act as
 * WeChat on a phone, so the JSAPI flow can be tried without a phone.
 */
export function effectiveClientKind(uaKind: ClientKind, sandbox: boolean, sandboxWechatCookie: string | undefined): ClientKind {
  if (sandbox && sandboxWechatCookie === '1') return 'wechat-mobile';
  return uaKind;
}

/**
 * Desktop WeChat (Windows/macOS 3.x and later) runs getBrandWCPayRequest, so it pays by JSAPI like the
 * phone. WeCom's browser has no WeChat Pay bridge: it gets the QR, to scan with WeChat.
 */
export function payModeFor(kind: ClientKind): PayMode {
  return kind === 'wechat-mobile' || kind === 'wechat-desktop' ? 'jsapi' : 'native';
}
