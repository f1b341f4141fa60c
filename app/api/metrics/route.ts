import { scrapeMetrics } from '@/lib/checkout/health';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

/** Prometheus text of this instance (docs/operations.md); Bearer METRICS_TOKEN when set, always in live mode. */
export async function GET(req: Request) {
  const r = await scrapeMetrics(req.headers.get('authorization'));
  if (!r.ok) {
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    if (r.status === 401) headers['www-authenticate'] = 'Bearer realm="metrics"';
    return Response.json({ error: { code: r.code, message: r.message } }, { status: r.status, headers });
  }
  return new Response(r.body, { status: 200, headers: { 'content-type': r.contentType, 'cache-control': 'no-store' } });
}
