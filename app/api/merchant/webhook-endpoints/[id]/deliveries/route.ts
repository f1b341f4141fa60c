import { apiError, refuseUnlessMerchantApi } from '@/app/_http/api-error';
import { json } from '@/app/_http/json';
import { listEndpointDeliveries, parseDeliveryLimit } from '@/lib/checkout/webhooks';

export const dynamic = 'force-dynamic';

/** `?limit=` -> {data: [delivery with attempt_log]}, newest first. */
export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  const refused = await refuseUnlessMerchantApi();
  if (refused) return refused;
  const limit = parseDeliveryLimit(new URL(req.url).searchParams.get('limit'));
  if (!limit.ok) return apiError(limit.error.status, limit.error.code, limit.error.message, limit.error.param);
  const r = await listEndpointDeliveries((await params).id, limit.value);
  return r.ok ? json({ data: r.value }) : apiError(r.error.status, r.error.code, r.error.message, r.error.param);
}
