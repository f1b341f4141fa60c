import { TransportFailure, TransportTimeout } from '../transport';

/** A fetch-compatible function (the global fetch, or a test's): headers of the answer are read by name. */
export type V3FetchLike = (
  input: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal; redirect?: 'manual' },
) => Promise<{ status: number; headers: { get(name: string): string | null }; arrayBuffer(): Promise<ArrayBuffer> }>;

/** One HTTP exchange: status, a header getter, the raw body bytes. */
export interface V3HttpResult {
  status: number;
  header(name: string): string | null;
  body: Buffer;
}

/** Answers bigger than this are a failure (a bill file is the largest thing v3 sends). */
export const MAX_V3_RESPONSE_BYTES = 64 * 1024 * 1024;

/** One request with a deadline covering the whole exchange; throws TransportTimeout or TransportFailure. */
export async function sendV3(fetchImpl: V3FetchLike, url: string, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<V3HttpResult> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    const res = await fetchImpl(url, { method, headers, body, signal: ctrl.signal, redirect: 'manual' });
    const buf = Buffer.from(await res.arrayBuffer());
    if (buf.length > MAX_V3_RESPONSE_BYTES) throw new TransportFailure(`response over ${MAX_V3_RESPONSE_BYTES} bytes`, { cause: undefined, tls: false });
    return { status: res.status, header: (n) => res.headers.get(n), body: buf };
  } catch (e) {
    if (ctrl.signal.aborted) throw new TransportTimeout(`no answer within ${timeoutMs} ms`);
    if (e instanceof TransportFailure) throw e;
    const cause = (e as { cause?: unknown } | null)?.cause ?? e;
    throw new TransportFailure(`${(e as Error).message}${cause !== e ? `: ${(cause as Error)?.message ?? cause}` : ''}`, { cause: e, tls: false });
  } finally {
    clearTimeout(timer);
  }
}
