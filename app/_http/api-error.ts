import { json } from './json';
import { refuseUnlessMerchant } from './merchant-session';

/*
 * The JSON API's error shape, {"error": {"code", "message", "param"}}: `param` names the request field
 * at fault (null when none), so a client can point at it. Used by the webhook-endpoint routes.
 */

/** An error answer with this status. */
export function apiError(status: number, code: string, message: string, param: string | null = null): Response {
  return json({ error: { code, message, param } }, status);
}

/** The merchant-session check of app/_http/merchant-session.ts, answered in the API's error shape. */
export async function refuseUnlessMerchantApi(): Promise<Response | null> {
  const refused = await refuseUnlessMerchant();
  return refused ? apiError(401, 'unauthorized', 'merchant login required: POST /api/merchant/session') : null;
}

/** The request's JSON body (at most `max` bytes), or the error answer that says why not. */
export async function readJsonBody(req: Request, max = 8 * 1024): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const text = await req.text();
  if (Buffer.byteLength(text, 'utf8') > max) return { ok: false, response: apiError(413, 'body_too_large', `the body must be at most ${max} bytes`) };
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, response: apiError(400, 'invalid_json', 'the body must be JSON') };
  }
}
