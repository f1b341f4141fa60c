import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { bareHost, forbiddenAddressReason, guardedLookup, type Resolver, systemResolver } from './url-guard';
import { DELIVERY_TIMEOUT_MS, RESPONSE_HEAD_BYTES } from './types';

/** What one POST came to: the HTTP status (null when there was no answer) or the error, the answer's head, the time. */
export interface SendResult {
  statusCode: number | null;
  error: string | null;
  /** At most RESPONSE_HEAD_BYTES of the answer's body, cut on a character boundary. */
  head: string | null;
  durationMs: number;
}

/** How a POST is made: `guard` (live mode) refuses forbidden addresses, checked on the address connected to. */
export interface SendOptions {
  guard: boolean;
  timeoutMs?: number;
  resolve?: Resolver;
}

function utf8Head(buf: Buffer): string {
  let end = Math.min(buf.length, RESPONSE_HEAD_BYTES);
  // Step back over UTF-8 continuation bytes so the cut lands on a character boundary.
  if (end < buf.length) while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/**
 * POSTs one signed body. node:http rather than fetch, for two reasons: the connection's DNS lookup can
 * be replaced (the SSRF guard checks the address the socket really connects to), and the answer is read
 * only up to its first 1 KB. No redirects are followed (a 3xx is a failed attempt), no connection is
 * kept alive, and the whole exchange (connect, TLS, the status line) must finish within the timeout.
 * Never throws: every outcome is a SendResult.
 */
export function postWebhook(url: string, body: string, headers: Record<string, string>, opts: SendOptions): Promise<SendResult> {
  const t0 = Date.now();
  const timeoutMs = opts.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  const done = (r: Omit<SendResult, 'durationMs'>): SendResult => ({ ...r, durationMs: Date.now() - t0 });
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.resolve(done({ statusCode: null, error: 'invalid URL', head: null }));
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return Promise.resolve(done({ statusCode: null, error: `refused: ${u.protocol} is not http(s)`, head: null }));
  if (opts.guard) {
    if (u.protocol !== 'https:') return Promise.resolve(done({ statusCode: null, error: 'refused: live mode sends webhooks over https only', head: null }));
    // Node skips the lookup for an IP literal, so the literal itself is checked here.
    const host = bareHost(u);
    const why = isIP(host) ? forbiddenAddressReason(host) : null;
    if (why) return Promise.resolve(done({ statusCode: null, error: `refused: ${host} is ${why}`, head: null }));
  }
  return new Promise((resolve) => {
    let settled = false;
    let status: number | null = null;
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(done({ statusCode: status, error: status === null ? error : null, head: chunks.length ? utf8Head(Buffer.concat(chunks)) : status === null ? null : '' }));
    };
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(u, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body, 'utf8')) },
      agent: false,
      lookup: opts.guard ? guardedLookup(opts.resolve ?? systemResolver) : undefined,
    }, (res) => {
      status = res.statusCode ?? null;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size >= RESPONSE_HEAD_BYTES) finish(null);
      });
      res.on('end', () => finish(null));
      res.on('error', () => finish(null));
    });
    const timer = setTimeout(() => finish(`no answer within ${timeoutMs} ms`), timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish((e.code === 'EWEBHOOKFORBIDDEN' ? e.message : `${e.code ?? 'ERROR'}: ${e.message}`).slice(0, 300)));
    req.end(body);
  });
}
