import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

/*
 * The server-side request forgery guard. In live mode a webhook URL is the merchant's to choose, and
 * whoever holds a merchant session could otherwise make this server POST to its own loopback, the
 * cloud metadata service (169.254.169.254) or the private network behind it. So in live mode a URL
 * must be https and its host must not be, or resolve to, an address of the kinds below: checked when
 * the endpoint is created AND again at every delivery, after DNS resolution, by the very lookup the
 * connection uses (guardedLookup), so a name that resolved to a public address at creation and to
 * 127.0.0.1 now (DNS rebinding) is refused without connecting. Sandbox mode allows anything http(s):
 * a developer's receiver runs on localhost.
 */

/** An address resolution: what dns.lookup with {all: true} answers. */
export type ResolvedAddress = { address: string; family: number };
/** Resolves a host name to every address; swapped in tests. */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), every address, in the resolver's order. */
export const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))));

type V4Range = [number, number, string];
const v4 = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
/** [network, prefix length, what it is]. */
const V4_FORBIDDEN: V4Range[] = [
  [v4(0, 0, 0, 0), 8, 'unspecified'],
  [v4(10, 0, 0, 0), 8, 'private'],
  [v4(100, 64, 0, 0), 10, 'shared carrier NAT'],
  [v4(127, 0, 0, 0), 8, 'loopback'],
  [v4(169, 254, 0, 0), 16, 'link-local'],
  [v4(172, 16, 0, 0), 12, 'private'],
  [v4(192, 0, 0, 0), 24, 'IETF protocol assignments'],
  [v4(192, 168, 0, 0), 16, 'private'],
  [v4(198, 18, 0, 0), 15, 'benchmarking'],
  [v4(224, 0, 0, 0), 4, 'multicast'],
  [v4(240, 0, 0, 0), 4, 'reserved'],
];

function v4Reason(n: number): string | null {
  for (const [net, len, what] of V4_FORBIDDEN) {
    const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
    if ((n & mask) >>> 0 === net) return what;
  }
  return null;
}

function parseV4(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? v4(parts[0], parts[1], parts[2], parts[3]) : null;
}

/** The eight 16-bit words of an IPv6 address (`::` expanded, a trailing dotted quad folded in), or null. */
export function ipv6Words(ip: string): number[] | null {
  let s = ip.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const quad = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s);
  if (quad) {
    const n = parseV4(quad[1]);
    if (n === null) return null;
    s = `${s.slice(0, quad.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const words = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!words.every((w) => /^[0-9a-f]{1,4}$/.test(w))) return null;
  return words.map((w) => parseInt(w, 16));
}

function v6Reason(w: number[]): string | null {
  const zeroes = (n: number) => w.slice(0, n).every((x) => x === 0);
  const embedded = ((w[6] << 16) | w[7]) >>> 0;
  if (zeroes(8)) return 'unspecified';
  if (zeroes(7) && w[7] === 1) return 'loopback';
  // An IPv4 address in IPv6 clothing is judged as that IPv4 address: v4-mapped ::ffff:a.b.c.d,
  // the deprecated v4-compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d and 6to4 2002:AABB:CCDD::.
  if (zeroes(5) && w[5] === 0xffff) return v4Reason(embedded);
  if (zeroes(6)) return v4Reason(embedded) ?? 'IPv4-compatible';
  if (w[0] === 0x64 && w[1] === 0xff9b && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0) return v4Reason(embedded);
  if (w[0] === 0x64 && w[1] === 0xff9b && w[2] === 1) return 'local-use NAT64';
  if (w[0] === 0x2002) return v4Reason(((w[1] << 16) | w[2]) >>> 0);
  if (w[0] === 0x0100 && w[1] === 0 && w[2] === 0 && w[3] === 0) return 'discard-only';
  if ((w[0] & 0xffc0) === 0xfe80) return 'link-local';
  if ((w[0] & 0xffc0) === 0xfec0) return 'site-local';
  if ((w[0] & 0xfe00) === 0xfc00) return 'unique-local';
  if ((w[0] & 0xff00) === 0xff00) return 'multicast';
  return null;
}

/**
 * Why a webhook may not be sent to `ip` in live mode ("loopback", "private", "link-local",
 * "unique-local", "unspecified", ...), or null when it may. Anything that is not an IP address is refused.
 */
export function forbiddenAddressReason(ip: string): string | null {
  const kind = isIP(ip.replace(/%.*$/, ''));
  if (kind === 4) return v4Reason(parseV4(ip)!);
  if (kind === 6) {
    const w = ipv6Words(ip);
    return w ? v6Reason(w) : 'not an IP address';
  }
  return 'not an IP address';
}

/** The URL's host without IPv6 brackets. */
export function bareHost(u: URL): string {
  return u.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Why any of the addresses `host` resolved to is forbidden, or null when all are allowed (and there is one). */
export function resolvedForbidden(host: string, addrs: ResolvedAddress[]): string | null {
  if (addrs.length === 0) return `${host} does not resolve`;
  for (const a of addrs) {
    const why = forbiddenAddressReason(a.address);
    if (why) return `${host} resolves to ${a.address}, which is ${why}`;
  }
  return null;
}

/**
 * Live mode: why this host may not be reached ("127.0.0.1 is loopback", "localhost resolves to ::1,
 * which is loopback"), or null. Every address the name resolves to must be allowed, not just the first:
 * the connection may use any of them.
 */
export async function hostForbidden(host: string, resolve: Resolver = systemResolver): Promise<string | null> {
  if (isIP(host)) {
    const why = forbiddenAddressReason(host);
    return why ? `${host} is ${why}` : null;
  }
  try {
    return resolvedForbidden(host, await resolve(host));
  } catch (e) {
    return `${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
}

/**
 * The lookup the delivery's connection uses in live mode: resolves ONCE, refuses the whole connection
 * when any address is forbidden, and hands Node exactly the addresses it checked, so the socket connects
 * to a checked address (no second resolution an attacker's DNS could answer differently: rebinding).
 * Node calls a custom lookup only for names; an IP literal is checked by the caller before connecting.
 */
export function guardedLookup(resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    void (async () => {
      const addrs = await resolve(hostname);
      const why = resolvedForbidden(hostname, addrs);
      if (why) {
        callback(Object.assign(new Error(`refused: ${why}`), { code: 'EWEBHOOKFORBIDDEN' }), '', 0);
        return;
      }
      const usable = addrs.filter((a) => !options.family || a.family === options.family);
      if (usable.length === 0) {
        callback(Object.assign(new Error(`${hostname}: no address of family ${options.family}`), { code: 'ENOTFOUND' }), '', 0);
        return;
      }
      if (options.all) (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, usable);
      else callback(null, usable[0].address, usable[0].family);
    })().catch((e) => callback(e as NodeJS.ErrnoException, '', 0));
  };
}
