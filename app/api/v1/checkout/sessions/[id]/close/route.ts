import { apiRequest, apiResponse } from '@/app/_http/api';
import { closeSessionCall } from '@/lib/checkout/sessions';

export const dynamic = 'force-dynamic';

/** POST /api/v1/checkout/sessions/{id}/close (Bearer key): closes an unpaid session; 409 once paid. */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const r = await apiRequest(req, { id: (await ctx.params).id, withBody: true });
  return r instanceof Response ? r : apiResponse(await closeSessionCall(r));
}
