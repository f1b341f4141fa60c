import { isIP } from 'node:net';

/** What a client IP falls back to when no usable address is known (WeChat requires a valid IP). */
export const FALLBACK_IP = '127.0.0.1';

/**
 * What app/ knows about where a request came from, as plain values: `peer` is the TCP socket's remote
 * address when the server could tell it (app/_http/peer-address.ts stamps it on every request `next
 * start` serves; undefined when that stamp is missing), `forwardedFor` the X-Forwarded-For header.
 */
export interface ClientAddress {
  peer?: string;
  forwardedFor?: string | null;
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

/**
 * The client's IP: the one helper for every use (spbill_create_ip sent to WeChat, the merchant login
 * throttle key).
 * - trustProxy (TRUST_PROXY=1: the socket peer is our own proxy, which appends the address it saw):
 *   the rightmost valid X-Forwarded-For entry, the first hop nobody we trust vouches for beyond. Left of
 *   it is whatever the client sent. With no valid entry, the peer itself.
 * - Otherwise the socket address. A client-sent X-Forwarded-For proves nothing and is ignored.
 * - Without a known socket address (the stamp is missing: not served by `next start` in this process),
 *   Next's own header: `next start` writes the socket address into X-Forwarded-For only when the
 *   request had none (`??=` in base-server.js), so exactly one entry may be Next's; several can only
 *   come from the client and give FALLBACK_IP. A single forged entry cannot be told apart there.
 */
export function clientIp(addr: ClientAddress, trustProxy: boolean): string {
  const peer = addr.peer === undefined ? undefined : normalizeIp(addr.peer) ?? FALLBACK_IP;
  const entries = (addr.forwardedFor ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (trustProxy) {
    for (let i = entries.length - 1; i >= 0; i--) {
      const ip = normalizeIp(entries[i]);
      if (ip) return ip;
    }
    return peer ?? FALLBACK_IP;
  }
  if (peer !== undefined) return peer;
  if (entries.length !== 1) return FALLBACK_IP;
  return normalizeIp(entries[0]) ?? FALLBACK_IP;
}

/** Expands a valid IPv6 text to its eight 16-bit groups (numbers). */
function ipv6Groups(ip: string): number[] {
  let text = ip.split('%')[0];
  // A trailing dotted quad (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) is two more groups.
  const quad = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...zeros, ...t].map((g) => parseInt(g, 16));
}

/**
 * The address block one client controls, for counting: an IPv4 address as is, an IPv6 address by its
 * /64. One subscriber usually gets a whole /64 (or more), so counting single IPv6 addresses would
 * hand an attacker 2^64 fresh keys.
 */
export function clientBlock(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const g = ipv6Groups(ip).slice(0, 4).map((n) => n.toString(16));
  return `${g.join(':')}::/64`;
}
