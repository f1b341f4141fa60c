import { sandboxOff } from '@/lib/sandbox/guard';
import { RECEIVER_MAX_BYTES, receiveWebhook } from '@/lib/sandbox/webhook-receiver';

export const dynamic = 'force-dynamic';

/** Reads at most `max` bytes of the body; null when it is larger (declared or streamed). */
async function cappedText(req: Request, max: number): Promise<string | null> {
  if (Number(req.headers.get('content-length') ?? 0) > max) return null;
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The sandbox's webhook receiver: stores the delivery (headers and body) for the dashboard and answers
 * 200, or what the URL's query asks (?status=503, ?fail_first=2). See docs/sandbox.md.
 */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const body = await cappedText(req, RECEIVER_MAX_BYTES);
  if (body === null) return new Response(JSON.stringify({ error: `body over ${RECEIVER_MAX_BYTES} bytes` }), { status: 413, headers: { 'content-type': 'application/json' } });
  const headers: Record<string, string> = {};
  // The session cookie of a browser that posted here by hand is nobody's business on the dashboard.
  req.headers.forEach((v, k) => { if (k !== 'cookie') headers[k] = v; });
  const r = await receiveWebhook({ headers, body, query: new URL(req.url).searchParams });
  return new Response(r.body, { status: r.status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}
