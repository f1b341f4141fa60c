import { apiRequest, apiResponse } from '@/app/_http/api';
import { createRefundCall } from '@/lib/checkout/sessions';

export const dynamic = 'force-dynamic';

/** POST /api/v1/checkout/sessions/{id}/refunds (Bearer key, Idempotency-Key): {amount_fen, reason?} -> 201 refund. */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const r = await apiRequest(req, { id: (await ctx.params).id, withBody: true });
  return r instanceof Response ? r : apiResponse(await createRefundCall(r));
}
