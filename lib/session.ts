import { getIronSession, type SessionOptions } from 'iron-session';
import { cookies } from 'next/headers';
import { getConfig } from './config';

/** What the session cookie holds: ids only, never order data or secrets. */
export interface SessionData {
  /** The buyer's openid under our appid, from OAuth (WeChat buyers only). */
  openid?: string;
  /** Random id of this browser's buyer: how a buyer without an openid owns orders. */
  buyerId?: string;
  /** OAuth state nonce awaiting the callback, and where to go after it. */
  oauthState?: string;
  returnTo?: string;
  /** How many times OAuth was restarted after a 40163 (code been used) in this round. */
  oauthRetries?: number;
  /**
   * Set by a successful merchant login: the id of a server-side merchant session (lib/checkout/merchant
   * checks it on every use; logout and a new MERCHANT_PASSWORD end it there, whatever the cookie says).
   */
  merchantSessionId?: string;
  /** This browser's device id, kept after logout: a browser the merchant logged in from is not held by the all-clients login cap. */
  merchantDevice?: string;
}

export const SESSION_COOKIE = 'wxcheckout_session';

/** iron-session options: httpOnly, SameSite=Lax (the OAuth redirect back is a top-level GET), Secure on https. */
export function sessionOptions(): SessionOptions {
  const config = getConfig();
  return {
    password: config.sessionSecret,
    cookieName: SESSION_COOKIE,
    ttl: 60 * 60 * 24 * 30,
    cookieOptions: {
      httpOnly: true,
      sameSite: 'lax',
      secure: config.publicBaseUrl.startsWith('https://'),
      path: '/',
    },
  };
}

/** The current request's session (server components, route handlers, server actions). */
export async function getSession() {
  return getIronSession<SessionData>(await cookies(), sessionOptions());
}
