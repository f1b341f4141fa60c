import { apiRequest, apiResponse } from '@/app/_http/api';
import { getSessionCall } from '@/lib/checkout/sessions';

export const dynamic = 'force-dynamic';

/** GET /api/v1/checkout/sessions/{id} (Bearer key): the session. */
export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const r = await apiRequest(req, { id: (await ctx.params).id });
  return r instanceof Response ? r : apiResponse(await getSessionCall(r));
}
