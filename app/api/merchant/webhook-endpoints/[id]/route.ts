import { apiError, refuseUnlessMerchantApi } from '@/app/_http/api-error';
import { json } from '@/app/_http/json';
import { deleteEndpoint, getEndpoint } from '@/lib/checkout/webhooks';

export const dynamic = 'force-dynamic';

type Params = { params: Promise<{ id: string }> };

/** One endpoint {id, url, events, created_at}, without its secret. */
export async function GET(_req: Request, { params }: Params) {
  const refused = await refuseUnlessMerchantApi();
  if (refused) return refused;
  const r = await getEndpoint((await params).id);
  return r.ok ? json(r.value) : apiError(r.error.status, r.error.code, r.error.message, r.error.param);
}

/** {id, deleted: true}; its pending deliveries stop. */
export async function DELETE(_req: Request, { params }: Params) {
  const refused = await refuseUnlessMerchantApi();
  if (refused) return refused;
  const r = await deleteEndpoint((await params).id);
  return r.ok ? json(r.value) : apiError(r.error.status, r.error.code, r.error.message, r.error.param);
}
