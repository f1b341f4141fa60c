import { createHash, timingSafeEqual } from 'node:crypto';
import { getConfig } from '../../config';
import { clientIp } from '../kernel';

/**
 * Merchant login: constant-time password check and a per-client throttle.
 *
 * The throttle lives in this process's memory. With several instances behind a load balancer each one
 * counts on its own, so an attacker gets (instances x MAX_FAILURES) tries per window: still a hard
 * slowdown, and MERCHANT_PASSWORD is >= 12 characters in live mode. Move it to the database if that
 * margin matters.
 */
/** Wrong passwords one client may send per WINDOW_MS before it is paused. */
export const MAX_FAILURES = 5;
/** The throttle's memory: failures older than this are forgotten. */
export const WINDOW_MS = 15 * 60 * 1000;
/** Every failure also costs the caller this long before the answer, so guessing is slow even under the cap. */
const FAILURE_DELAY_MS = 400;
/**
 * All clients together: without TRUST_PROXY the client key comes from X-Forwarded-For as Next fills it,
 * which a client can preset. Past this many failures in a window, every attempt waits longer.
 */
const GLOBAL_SLOW_AFTER = 30;
const GLOBAL_DELAY_MS = 2000;

type Entry = { failures: number[] };
const globalKey = Symbol.for('wechat-checkout.merchant-throttle');
type Holder = { [globalKey]?: Map<string, Entry> };

function table(): Map<string, Entry> {
  const g = globalThis as Holder;
  return (g[globalKey] ??= new Map());
}

function recent(key: string, now: number): number[] {
  const e = table().get(key);
  if (!e) return [];
  e.failures = e.failures.filter((t) => now - t < WINDOW_MS);
  if (e.failures.length === 0) table().delete(key);
  return e.failures;
}

/** The client key for throttling: the kernel's one client-IP rule under this deployment's TRUST_PROXY. */
export function clientKey(forwardedFor: string | null | undefined): string {
  return clientIp(forwardedFor, getConfig().trustProxy);
}

/** A login check's verdict; a refusal says when to try again when throttled. */
export type LoginResult =
  | { ok: true }
  | { ok: false; code: 'BAD_PASSWORD' | 'THROTTLED'; message: string; retryAfterSec?: number };

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Hashing first makes both sides 32 bytes, so the comparison time does not depend on the length either. */
export function passwordMatches(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Checks a login attempt from `key` against MERCHANT_PASSWORD, counting failures. Does not touch the session. */
export async function checkMerchantLogin(password: string, key: string, locale: 'zh' | 'en' = 'zh', now = Date.now()): Promise<LoginResult> {
  const mine = recent(key, now);
  if (mine.length >= MAX_FAILURES) {
    const retryAfterSec = Math.ceil((mine[0] + WINDOW_MS - now) / 1000);
    const minutes = Math.ceil(retryAfterSec / 60);
    return {
      ok: false,
      code: 'THROTTLED',
      retryAfterSec,
      message: locale === 'en'
        ? `Too many wrong passwords. Try again in ${minutes} minute(s).`
        : `密码错误次数过多，请 ${minutes} 分钟后再试。`,
    };
  }
  const all = recent('*', now);
  if (all.length >= GLOBAL_SLOW_AFTER) await sleep(GLOBAL_DELAY_MS);
  if (typeof password === 'string' && password.length > 0 && password.length <= 1024 && passwordMatches(password, getConfig().merchantPassword)) {
    table().delete(key);
    return { ok: true };
  }
  for (const k of [key, '*']) {
    const e = table().get(k) ?? { failures: [] };
    e.failures.push(now);
    table().set(k, e);
  }
  await sleep(FAILURE_DELAY_MS);
  const left = MAX_FAILURES - recent(key, now).length;
  return {
    ok: false,
    code: 'BAD_PASSWORD',
    message: locale === 'en'
      ? `Wrong password.${left > 0 ? ` ${left} tries left before a 15-minute pause.` : ' Login is paused for 15 minutes.'}`
      : `密码错误。${left > 0 ? `再错 ${left} 次将暂停登录 15 分钟。` : '登录已暂停 15 分钟。'}`,
  };
}
