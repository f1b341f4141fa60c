import { checkMerchantSession, logInMerchant, type LoginResult, revokeMerchantSession } from '@/lib/checkout/merchant';
import { getSession } from '@/lib/session';
import { json } from './json';
import { clientAddress } from './peer-address';

/*
 * The merchant session's cookie side (iron-session; the cookie holds the session id and this browser's
 * device id, nothing else). Whether that id is a live session is lib/checkout/merchant's answer, asked
 * on every use; reading and writing the cookie is HTTP's business, so it lives here.
 */

/** A login's outcome as app/ sees it: the ids went into the cookie, never into an answer. */
export type MerchantLogin = { ok: true } | Exclude<LoginResult, { ok: true }>;

/**
 * Checks the password for a request with these headers and, when it is right, stores the new session
 * (and the device id) in this browser's cookie. A session this cookie held before is ended.
 */
export async function logInMerchantSession(password: string, headers: { get(name: string): string | null }, locale: 'zh' | 'en'): Promise<MerchantLogin> {
  const session = await getSession();
  const r = await logInMerchant({ password, client: clientAddress(headers), device: session.merchantDevice, locale });
  if (!r.ok) return r;
  await revokeMerchantSession(session.merchantSessionId);
  session.merchantSessionId = r.sessionId;
  session.merchantDevice = r.deviceId;
  await session.save();
  return { ok: true };
}

/** Logs out: the session ends server-side (copies of the cookie stop working too); buyer ids and the device id stay. */
export async function endMerchantSession(): Promise<void> {
  const session = await getSession();
  await revokeMerchantSession(session.merchantSessionId);
  delete session.merchantSessionId;
  await session.save();
}

/** True when the current request carries a live merchant session (which also restarts its idle clock). */
export async function isMerchant(): Promise<boolean> {
  const session = await getSession();
  return checkMerchantSession(session.merchantSessionId);
}

/** The answer to anyone without a merchant session, for every /api/merchant/* route but the login. */
export async function refuseUnlessMerchant(): Promise<Response | null> {
  if (await isMerchant()) return null;
  return json({ ok: false, code: 'UNAUTHORIZED', message: 'merchant login required: POST /api/merchant/session' }, 401);
}
