import https from 'node:https';
import { WechatPayError } from './errors';

/** A fetch-compatible function (the global fetch, or a test's). */
export type FetchLike = (input: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ status: number; arrayBuffer(): Promise<ArrayBuffer> }>;

/** What one HTTP exchange gave back. */
export interface HttpResult {
  status: number;
  body: string;
}

/** No answer within the deadline. */
export class TransportTimeout extends Error {}

/** The request never got an HTTP answer (refused, reset, DNS, TLS). */
export class TransportFailure extends Error {
  readonly tls: boolean;
  constructor(message: string, opts: { cause: unknown; tls: boolean }) {
    super(message, { cause: opts.cause });
    this.tls = opts.tls;
  }
}

/**
 * Options of one call, for the few API methods that take them (orderquery, v3's query by
 * out_trade_no). `maxRetries` overrides the client's own for this call only: 0 sends the request once,
 * for a caller that asks again on its own schedule and wants no second request inside it.
 */
export interface CallOptions {
  maxRetries?: number;
}

/** Most retries one call may ask for: more would only hammer a WeChat that is already failing. */
const MAX_CALL_RETRIES = 5;

/**
 * The retries one call makes: its own maxRetries when given, else the client's. A value that is not a
 * whole number from 0 to 5 is refused before anything is sent.
 */
export function callRetries(opts: CallOptions | undefined, clientRetries: number): number {
  const n = opts?.maxRetries;
  if (n === undefined) return clientRetries;
  if (!Number.isInteger(n) || n < 0 || n > MAX_CALL_RETRIES) {
    throw new WechatPayError(`maxRetries must be a whole number from 0 to ${MAX_CALL_RETRIES}, got ${String(n)}`, { code: 'INVALID_ARGUMENT' });
  }
  return n;
}

/** Answers bigger than this are cut off as a failure (a bill is the largest thing v2 sends). */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

const HEADERS = { 'content-type': 'text/xml; charset=utf-8', accept: 'text/xml, text/plain, */*' };

function isTlsError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code.includes('CERT'));
}

/**
 * POSTs with a fetch function; the deadline covers the whole exchange, body included. Used for every
 * call that needs no client certificate (fetch cannot present one).
 */
export async function postWithFetch(fetchImpl: FetchLike, url: string, body: string, timeoutMs: number): Promise<HttpResult> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    const res = await fetchImpl(url, { method: 'POST', headers: HEADERS, body, signal: ctrl.signal });
    const buf = Buffer.from(await res.arrayBuffer());
    if (buf.length > MAX_RESPONSE_BYTES) throw new TransportFailure(`response over ${MAX_RESPONSE_BYTES} bytes`, { cause: undefined, tls: false });
    return { status: res.status, body: buf.toString('utf8') };
  } catch (e) {
    if (ctrl.signal.aborted) throw new TransportTimeout(`no answer within ${timeoutMs} ms`);
    if (e instanceof TransportFailure) throw e;
    const cause = (e as { cause?: unknown } | null)?.cause ?? e;
    throw new TransportFailure(`${(e as Error).message}${cause !== e ? `: ${(cause as Error)?.message ?? cause}` : ''}`, { cause: e, tls: isTlsError(cause) });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * POSTs over node:https with an agent that presents the merchant certificate (mutual TLS, as
 * /secapi/pay/refund requires). The deadline covers the whole exchange.
 */
export function postWithAgent(agent: https.Agent, url: string, body: string, timeoutMs: number): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const req = https.request(url, { method: 'POST', agent, headers: { ...HEADERS, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`response over ${MAX_RESPONSE_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => done(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })));
      res.on('error', (e) => done(() => reject(new TransportFailure(e.message, { cause: e, tls: false }))));
    });
    const timer = setTimeout(() => {
      done(() => reject(new TransportTimeout(`no answer within ${timeoutMs} ms`)));
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => done(() => reject(new TransportFailure(e.message, { cause: e, tls: isTlsError(e) }))));
    req.end(body);
  });
}
