import { createHash, timingSafeEqual } from 'node:crypto';
import { getConfig } from '../../config';
import { log } from '../../log';
import { metrics } from '../../metrics';
import { type ClientAddress, clientBlock, clientIp } from '../kernel';
import { createMerchantSession, deviceKey, isKnownDevice, rememberDevice } from './sessions';
import { MAX_FAILURES, releaseAttempt, reserveAttempt, sweepStale, type ThrottleScope, WINDOW_MS } from './throttle';

/*
 * Merchant login: a throttle shared by every instance (./throttle), a constant-time compare, then a
 * server-side session (./sessions).
 *
 * Whose attempt is it? A browser that has logged in before (a known device id in its cookie, checked
 * against merchant_devices) is counted under its own key and is outside the all-clients cap. Everyone
 * else is counted by client address (the IPv6 /64) AND against the all-clients cap. The address can be
 * plentiful or, without a socket address, forged; the cap bounds guessing whatever the addresses.
 * An attacker who fills the cap or a victim address's counter locks out only untrusted clients for
 * the rest of the window: the merchant's own browser still gets in, and cannot be impersonated.
 */

/** Passwords longer than this are refused unread: no MERCHANT_PASSWORD is that long, and hashing megabytes is work. */
const MAX_PASSWORD_LENGTH = 1024;

/** A login attempt's verdict. On success, the ids for the cookie (never for a response body). */
export type LoginResult =
  | { ok: true; sessionId: string; deviceId: string }
  | { ok: false; code: 'BAD_REQUEST' | 'BAD_PASSWORD'; message: string }
  | { ok: false; code: 'THROTTLED'; scope: ThrottleScope; retryAfterSec: number; message: string };

/** What a login attempt brings: the password, where it came from, and the browser's device id if any. */
export interface LoginInput {
  password: string;
  client: ClientAddress;
  /** The device id from the session cookie, set by an earlier successful login in this browser. */
  device?: string;
  locale?: 'zh' | 'en';
  now?: number;
}

/** The throttle key of an untrusted client: its address block under the kernel's one client-IP rule and TRUST_PROXY. */
export function clientKey(client: ClientAddress): string {
  return `ip:${clientBlock(clientIp(client, getConfig().trustProxy))}`;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Hashing first makes both sides 32 bytes, so the comparison time does not depend on the length either. */
export function passwordMatches(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

function throttledMessage(scope: ThrottleScope, retryAfterSec: number, en: boolean): string {
  const minutes = Math.ceil(retryAfterSec / 60);
  if (scope === 'client') {
    return en ? `Too many wrong passwords from here. Try again in ${minutes} minute(s).` : `密码错误次数过多，请 ${minutes} 分钟后再试。`;
  }
  return en
    ? `Too many wrong passwords for this shop recently. Try again in ${minutes} minute(s), or from a browser you have logged in with before.`
    : `近期本店的错误密码过多，登录已暂停。请 ${minutes} 分钟后再试，或使用曾登录过的浏览器。`;
}

function wrongMessage(left: number, en: boolean): string {
  const pause = Math.round(WINDOW_MS / 60_000);
  return en
    ? `Wrong password.${left > 0 ? ` ${left} tries left before a ${pause}-minute pause.` : ` Login from here is paused for ${pause} minutes.`}`
    : `密码错误。${left > 0 ? `再错 ${left} 次将暂停登录 ${pause} 分钟。` : `登录已暂停 ${pause} 分钟。`}`;
}

/**
 * Checks a login against MERCHANT_PASSWORD and, when it is right, starts a merchant session. The
 * attempt is counted before the compare, so a refused attempt compares nothing and a burst cannot
 * outrun the count. Does not touch any cookie: the caller stores sessionId and deviceId.
 */
export async function logInMerchant(input: LoginInput): Promise<LoginResult> {
  const r = await checkLogin(input);
  const result = r.ok ? 'ok' : r.code === 'THROTTLED' ? 'throttled' : r.code === 'BAD_PASSWORD' ? 'bad_password' : 'bad_request';
  metrics().logins.inc({ result });
  // Never the password, the session or the device id: only what happened and to whom it was counted.
  const line = { event: 'merchant_login', outcome: result, scope: !r.ok && r.code === 'THROTTLED' ? r.scope : undefined, client: clientIp(input.client, getConfig().trustProxy) };
  if (r.ok) log().info(line, 'merchant logged in');
  else log().warn(line, 'merchant login refused');
  return r;
}

async function checkLogin(input: LoginInput): Promise<LoginResult> {
  const en = input.locale === 'en';
  const now = input.now ?? Date.now();
  const { password } = input;
  if (typeof password !== 'string' || password.length === 0 || password.length > MAX_PASSWORD_LENGTH) {
    return { ok: false, code: 'BAD_REQUEST', message: en ? 'Enter the merchant password.' : '请输入商户密码。' };
  }
  const known = await isKnownDevice(input.device, now);
  const key = known ? deviceKey(input.device!) : clientKey(input.client);
  const reserved = await reserveAttempt(key, !known, now);
  await sweepStale(now);
  if (!reserved.ok) {
    return { ok: false, code: 'THROTTLED', scope: reserved.scope, retryAfterSec: reserved.retryAfterSec, message: throttledMessage(reserved.scope, reserved.retryAfterSec, en) };
  }
  if (!passwordMatches(password, getConfig().merchantPassword)) {
    return { ok: false, code: 'BAD_PASSWORD', message: wrongMessage(MAX_FAILURES - reserved.failures, en) };
  }
  await releaseAttempt(reserved);
  const sessionId = await createMerchantSession(now);
  const deviceId = await rememberDevice(known ? input.device : undefined, now);
  return { ok: true, sessionId, deviceId };
}
