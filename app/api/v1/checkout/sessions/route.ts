import { apiRequest, apiResponse } from '@/app/_http/api';
import { createSessionCall, listSessionsCall } from '@/lib/checkout/sessions';

export const dynamic = 'force-dynamic';

/** POST /api/v1/checkout/sessions (Bearer key): creates a session (docs/api.md). */
export async function POST(req: Request) {
  const r = await apiRequest(req, { withBody: true });
  return r instanceof Response ? r : apiResponse(await createSessionCall(r));
}

/** GET /api/v1/checkout/sessions?merchant_reference=&status=&limit=&starting_after=: {data, has_more}. */
export async function GET(req: Request) {
  const r = await apiRequest(req);
  return r instanceof Response ? r : apiResponse(await listSessionsCall(r));
}
