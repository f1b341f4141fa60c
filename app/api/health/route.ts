import { checkHealth } from '@/lib/checkout/health';

export const dynamic = 'force-dynamic';

/** `{ok, mode, db}`: cheap, no upstream calls; 503 when the database does not answer. */
export async function GET() {
  const health = await checkHealth();
  return Response.json(health, { status: health.ok ? 200 : 503 });
}
