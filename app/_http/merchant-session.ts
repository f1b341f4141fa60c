import { getSession } from '@/lib/session';
import { json } from './json';

/*
 * The merchant flag in the session cookie (iron-session; the cookie holds the flag only). Reading and
 * writing cookies is HTTP's business, so it lives here; the password check is lib/checkout/merchant's.
 */

/** Logs in the current session. */
export async function startMerchantSession(): Promise<void> {
  const session = await getSession();
  session.merchant = true;
  await session.save();
}

/** Logs out the merchant, leaving any buyer ids of this browser alone. */
export async function endMerchantSession(): Promise<void> {
  const session = await getSession();
  delete session.merchant;
  await session.save();
}

/** True when the current request carries a merchant session. */
export async function isMerchant(): Promise<boolean> {
  const session = await getSession();
  return session.merchant === true;
}

/** The answer to anyone without a merchant session, for every /api/merchant/* route but the login. */
export async function refuseUnlessMerchant(): Promise<Response | null> {
  if (await isMerchant()) return null;
  return json({ ok: false, code: 'UNAUTHORIZED', message: 'merchant login required: POST /api/merchant/session' }, 401);
}
