import { isIP } from 'node:net';

/** What a client IP falls back to when no usable address is known (WeChat requires a valid IP). */
export const FALLBACK_IP = '127.0.0.1';

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

/**
 * The client's IP from the X-Forwarded-For header a route handler or server action sees: the one
 * helper for every use (spbill_create_ip sent to WeChat, the merchant login throttle).
 *
 * Next 16's `next start` has no socket in route handlers; it writes the socket address into
 * X-Forwarded-For only when the request had none (`??=` in base-server.js), and leaves a client-sent
 * header untouched (test/e2e/checkout-desktop.test.ts pins this down over real HTTP).
 * - trustProxy (TRUST_PROXY=1, behind our own proxy, which appends the address it saw): the rightmost
 *   valid entry. Everything left of it was sent by the client and proves nothing.
 * - Otherwise a real request carries exactly the one entry Next wrote. A header with several entries
 *   can only have come from the client, so it is not believed: FALLBACK_IP. A single forged entry
 *   cannot be told apart from Next's own.
 */
export function clientIp(xForwardedFor: string | null | undefined, trustProxy: boolean): string {
  const entries = (xForwardedFor ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (trustProxy) {
    for (let i = entries.length - 1; i >= 0; i--) {
      const ip = normalizeIp(entries[i]);
      if (ip) return ip;
    }
    return FALLBACK_IP;
  }
  if (entries.length !== 1) return FALLBACK_IP;
  return normalizeIp(entries[0]) ?? FALLBACK_IP;
}
