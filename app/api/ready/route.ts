import { checkReadiness } from '@/lib/checkout/health';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

/** Readiness (docs/http-api.md): 200 when this instance can take payments, 503 with the same JSON when not. */
export async function GET() {
  const ready = await checkReadiness();
  return Response.json(ready, { status: ready.ok ? 200 : 503, headers: { 'cache-control': 'no-store' } });
}
