import { apiError, refuseUnlessMerchantApi } from '@/app/_http/api-error';
import { json } from '@/app/_http/json';
import { rollEndpointSecret } from '@/lib/checkout/webhooks';

export const dynamic = 'force-dynamic';

/** A new secret, shown this once: {id, url, events, created_at, secret}. The old secret stops at once. */
export async function POST(_req: Request, { params }: { params: Promise<{ id: string }> }) {
  const refused = await refuseUnlessMerchantApi();
  if (refused) return refused;
  const r = await rollEndpointSecret((await params).id);
  return r.ok ? json(r.value) : apiError(r.error.status, r.error.code, r.error.message, r.error.param);
}
