import { readCappedBody } from '@/app/_http/body';
import { json } from '@/app/_http/json';
import { endMerchantSession, logInMerchantSession } from '@/app/_http/merchant-session';
import { pickLocale } from '@/lib/i18n';

export const dynamic = 'force-dynamic';

/** A login body is `{"password": "..."}`; anything bigger is refused while it streams in, not after. */
const MAX_LOGIN_BODY_BYTES = 4096;

const BAD_BODY = { ok: false, code: 'BAD_REQUEST', message: 'body must be JSON {"password": "..."}' };

/** Merchant login for scripts: JSON {password} -> the session cookie. */
export async function POST(req: Request) {
  const locale = pickLocale(req.headers.get('accept-language'));
  const body = await readCappedBody(req, MAX_LOGIN_BODY_BYTES);
  if (!body.ok) {
    return json({ ok: false, code: 'BAD_REQUEST', message: body.code === 'TOO_LARGE' ? `body over ${MAX_LOGIN_BODY_BYTES} bytes` : body.detail }, 400);
  }
  let password: unknown;
  try {
    password = (JSON.parse(body.text) as { password?: unknown })?.password;
  } catch {
    return json(BAD_BODY, 400);
  }
  if (typeof password !== 'string') return json(BAD_BODY, 400);
  const r = await logInMerchantSession(password, req.headers, locale);
  if (r.ok) return json({ ok: true });
  if (r.code === 'THROTTLED') return json(r, 429, { 'Retry-After': String(r.retryAfterSec) });
  return json(r, r.code === 'BAD_REQUEST' ? 400 : 401);
}

/** Logout: the session ends server-side, so a copy of the cookie stops working too. */
export async function DELETE() {
  await endMerchantSession();
  return json({ ok: true });
}
