import { json } from '@/app/_http/json';
import { endMerchantSession, startMerchantSession } from '@/app/_http/merchant-session';
import { checkMerchantLogin, clientKey } from '@/lib/checkout/merchant';
import { pickLocale } from '@/lib/i18n';

export const dynamic = 'force-dynamic';

/** Merchant login for scripts: JSON {password} -> the session cookie. */
export async function POST(req: Request) {
  const en = pickLocale(req.headers.get('accept-language')) === 'en';
  let password: unknown;
  try {
    const text = await req.text();
    if (text.length > 4096) return json({ ok: false, code: 'BAD_REQUEST', message: 'body too large' }, 400);
    password = (JSON.parse(text) as { password?: unknown })?.password;
  } catch {
    return json({ ok: false, code: 'BAD_REQUEST', message: 'body must be JSON {"password": "..."}' }, 400);
  }
  if (typeof password !== 'string') return json({ ok: false, code: 'BAD_REQUEST', message: 'body must be JSON {"password": "..."}' }, 400);
  const r = await checkMerchantLogin(password, clientKey(req.headers.get('x-forwarded-for')), en ? 'en' : 'zh');
  if (!r.ok) {
    return r.code === 'THROTTLED'
      ? json(r, 429, { 'Retry-After': String(r.retryAfterSec ?? 900) })
      : json(r, 401);
  }
  await startMerchantSession();
  return json({ ok: true });
}

/** Logout. */
export async function DELETE() {
  await endMerchantSession();
  return json({ ok: true });
}
