import { apiResponse } from '@/app/_http/api';
import { readCappedBody } from '@/app/_http/body';
import { json } from '@/app/_http/json';
import { refuseUnlessMerchant } from '@/app/_http/merchant-session';
import { createApiKey, errorReply, listApiKeys, parseJsonBody } from '@/lib/checkout/developers';

export const dynamic = 'force-dynamic';

/** POST /api/merchant/api-keys {name} -> 201 {id, name, key, created_at}: the only time the key is shown. */
export async function POST(req: Request) {
  const refused = await refuseUnlessMerchant();
  if (refused) return refused;
  const body = await readCappedBody(req, 4096);
  if (!body.ok) return apiResponse(errorReply({ status: 400, code: 'body_unreadable', message: body.detail }));
  const parsed = parseJsonBody(body.text);
  if (!parsed.ok) return apiResponse(errorReply(parsed.error));
  const name = parsed.value && typeof parsed.value === 'object' ? (parsed.value as { name?: unknown }).name : undefined;
  const r = await createApiKey(name);
  return r.ok ? json(r.key, 201) : apiResponse(errorReply(r.error));
}

/** GET /api/merchant/api-keys -> {data: [{id, name, prefix, livemode, created_at, last_used_at, revoked_at}]}: never the keys. */
export async function GET() {
  const refused = await refuseUnlessMerchant();
  if (refused) return refused;
  return json({ data: await listApiKeys() });
}
