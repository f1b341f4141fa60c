import { MAX_NOTIFY_BYTES } from '@/lib/checkout/payments';

/*
 * Reading WeChat's notify bodies at the edge: the route reads the bytes (capped), lib/checkout gets a
 * string and gives back the answer (v2 XML, or v3's status and JSON).
 */


/** A notify answer from lib/checkout (v2 XML or v3's status and JSON) as the Response WeChat reads. */
export function notifyResponse(a: { status: number; body: string; contentType: string }): Response {
  return new Response(a.status === 204 ? null : a.body, { status: a.status, headers: { 'content-type': a.contentType, 'cache-control': 'no-store' } });
}

/** The request headers a v3 notify is verified with (Wechatpay-*), as plain data for lib/checkout. */
export function notifyHeaders(h: Headers): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const n of ['wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-signature', 'wechatpay-serial']) out[n] = h.get(n) ?? undefined;
  return out;
}

/** The body as text, or why it was not read (with the head that was, for the audit trail). */
export type BodyResult = { ok: true; text: string } | { ok: false; code: 'TOO_LARGE' | 'READ_FAILED'; detail: string; head: string };

/**
 * Reads a request body as UTF-8 text, refusing (without buffering the rest) anything over `max` bytes:
 * a declared Content-Length over the cap is refused before reading, a chunked body as soon as it passes it.
 */
export async function readCappedBody(req: Request, max = MAX_NOTIFY_BYTES): Promise<BodyResult> {
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    if (req.body) await drain(req.body.getReader());
    return { ok: false, code: 'TOO_LARGE', detail: `body of ${declared} bytes is over the ${max}-byte cap`, head: '' };
  }
  if (!req.body) return { ok: true, text: '' };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      chunks.push(value);
      if (size > max) {
        const head = Buffer.concat(chunks).subarray(0, 2048).toString('utf8');
        await drain(reader);
        return { ok: false, code: 'TOO_LARGE', detail: `body over the ${max}-byte cap`, head };
      }
    }
  } catch (e) {
    return { ok: false, code: 'READ_FAILED', detail: `could not read the body: ${(e as Error).message}`, head: '' };
  }
  return { ok: true, text: Buffer.concat(chunks).toString('utf8') };
}

/** Bodies up to this are read to the end and dropped, so the keep-alive connection stays usable. */
const DRAIN_MAX = 1024 * 1024;

/** Discards the rest of a refused body; past DRAIN_MAX the stream is cancelled (the peer gets a reset). */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      n += value.byteLength;
      if (n > DRAIN_MAX) break;
    }
  } catch {
    return;
  }
  await reader.cancel().catch(() => {});
}
