import { apiError, readJsonBody, refuseUnlessMerchantApi } from '@/app/_http/api-error';
import { json } from '@/app/_http/json';
import { createEndpoint, listEndpoints } from '@/lib/checkout/webhooks';

export const dynamic = 'force-dynamic';

/** {url, events?} -> 201 {id, url, events, created_at, secret}: the secret is shown this once. */
export async function POST(req: Request) {
  const refused = await refuseUnlessMerchantApi();
  if (refused) return refused;
  const body = await readJsonBody(req);
  if (!body.ok) return body.response;
  const r = await createEndpoint(body.value);
  if (!r.ok) return apiError(r.error.status, r.error.code, r.error.message, r.error.param);
  return json(r.value, 201);
}

/** {data: [{id, url, events, created_at}]}, oldest first, without secrets. */
export async function GET() {
  const refused = await refuseUnlessMerchantApi();
  if (refused) return refused;
  return json({ data: await listEndpoints() });
}
