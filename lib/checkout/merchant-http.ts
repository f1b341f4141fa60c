import { isMerchant } from './merchant-auth';

/** JSON that no cache keeps: merchant data is per-session and live. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { 'Cache-Control': 'no-store', ...headers } });
}

/** The answer to anyone without a merchant session, for every /api/merchant/* route but the login. */
export async function refuseUnlessMerchant(): Promise<Response | null> {
  if (await isMerchant()) return null;
  return json({ ok: false, code: 'UNAUTHORIZED', message: 'merchant login required: POST /api/merchant/session' }, 401);
}
