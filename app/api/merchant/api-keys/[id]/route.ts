import { apiResponse } from '@/app/_http/api';
import { json } from '@/app/_http/json';
import { refuseUnlessMerchant } from '@/app/_http/merchant-session';
import { errorReply, revokeApiKey } from '@/lib/checkout/developers';

export const dynamic = 'force-dynamic';

/** DELETE /api/merchant/api-keys/{id}: revokes the key at once, on every instance; 404 for an unknown id. */
export async function DELETE(_req: Request, ctx: { params: Promise<{ id: string }> }) {
  const refused = await refuseUnlessMerchant();
  if (refused) return refused;
  const { id } = await ctx.params;
  if (!(await revokeApiKey(id))) return apiResponse(errorReply({ status: 404, code: 'resource_missing', message: `no API key ${id}`, param: 'id' }));
  return json({ id, revoked: true });
}
