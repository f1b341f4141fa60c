import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_MAX_FAILURES, MAX_FAILURES, WINDOW_MS } from '@/lib/checkout/merchant';
import { type DbHandle, openDb } from '@/lib/db';
import { ENGINES, freshDatabaseUrl } from '../helpers/db';
import { requestFrom, sessionCookie } from '../helpers/local-client';
import { type AppServer, startApp } from '../helpers/server';

/**
 * The merchant login against a determined attacker, over real HTTP, on two `next start` instances
 * sharing one database (as behind a load balancer). Clients are told apart by their source address
 * (127.x.y.z, all loopback), which is what the app counts when no proxy is trusted.
 */
const SECRET = 'merchant-auth-test-session-secret-0123456789';
const FIRST_PASSWORD = 'first merchant password';
const SECOND_PASSWORD = 'second merchant password';

function tally(rs: Response[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of rs) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

describe.each(ENGINES)('merchant login on %s, two instances sharing the database', (engine) => {
  let databaseUrl: string;
  let apps: AppServer[] = [];
  let h: DbHandle;
  const env = (password: string) => ({ MERCHANT_PASSWORD: password, SESSION_SECRET: SECRET, RECONCILE_INTERVAL_MS: '0' });
  const login = (app: AppServer, from: string, password: string, headers: Record<string, string> = {}) =>
    requestFrom(from, app.port, '/api/merchant/session', {
      method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ password }),
    });
  const orders = (app: AppServer, cookie: string) => requestFrom('127.0.0.1', app.port, '/api/merchant/orders', { headers: { cookie } });
  const failures = async (key: string) =>
    Number((await h.db.selectFrom('merchant_login_throttle').select('failures').where('key', '=', key).executeTakeFirst())?.failures ?? 0);

  /** Both instances, one after the other (each migrates the shared database at start). */
  async function startBoth(password: string) {
    apps = [];
    for (let i = 0; i < 2; i++) apps.push(await startApp({ databaseUrl, env: env(password) }));
  }

  beforeAll(async () => {
    databaseUrl = await freshDatabaseUrl(engine);
    await startBoth(FIRST_PASSWORD);
    h = openDb(databaseUrl);
  });
  afterAll(async () => {
    await h?.close();
    await Promise.all(apps.map((a) => a.stop()));
  });

  it(`a parallel burst with rotated X-Forwarded-For over both instances gets exactly ${MAX_FAILURES} passwords compared`, async () => {
    const from = '127.0.0.11';
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      login(apps[i % 2], from, `guess-${i}`, { 'x-forwarded-for': `198.51.${i}.${200 - i}`, 'x-real-ip': `203.0.113.${i}`, 'x-wxcheckout-peer': `forged 192.0.2.${i}` })));
    // Each 401 is a wrong password that was compared; a 429 compared nothing.
    expect(tally(burst)).toEqual({ 401: MAX_FAILURES, 429: 40 - MAX_FAILURES });
    for (const r of burst.filter((x) => x.status === 429)) {
      const retry = Number(r.headers.get('retry-after'));
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(WINDOW_MS / 1000);
      expect(await r.json()).toMatchObject({ ok: false, code: 'THROTTLED', scope: 'client', retryAfterSec: retry });
    }
    expect(await failures(`ip:${from}`)).toBe(MAX_FAILURES);
    // The right password is refused too while the address is locked, on either instance...
    expect((await login(apps[0], from, FIRST_PASSWORD)).status).toBe(429);
    expect((await login(apps[1], from, FIRST_PASSWORD, { 'x-forwarded-for': '192.0.2.1' })).status).toBe(429);
    // ...but the merchant logs in from another address.
    const elsewhere = await login(apps[1], '127.0.0.12', FIRST_PASSWORD);
    expect(elsewhere.status).toBe(200);
    expect((await orders(apps[0], sessionCookie(elsewhere))).status).toBe(200);
  });

  it('logout ends the session server-side: the old cookie replayed on either instance gets 401', async () => {
    const ok = await login(apps[0], '127.0.0.13', FIRST_PASSWORD);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true });
    const cookie = sessionCookie(ok);
    expect((await orders(apps[0], cookie)).status).toBe(200);
    expect((await orders(apps[1], cookie)).status).toBe(200);
    const out = await requestFrom('127.0.0.13', apps[1].port, '/api/merchant/session', { method: 'DELETE', headers: { cookie } });
    expect(out.status).toBe(200);
    for (const app of apps) {
      expect((await orders(app, cookie)).status).toBe(401);
      const page = await requestFrom('127.0.0.13', app.port, '/merchant/orders', { headers: { cookie } });
      expect(page.headers.get('location')).toMatch(/\/merchant\/login/);
    }
  });

  it('a new MERCHANT_PASSWORD (instances restarted on the same database) ends every existing session', async () => {
    const before = await login(apps[1], '127.0.0.14', FIRST_PASSWORD);
    expect(before.status).toBe(200);
    const old = sessionCookie(before);
    expect((await orders(apps[0], old)).status).toBe(200);
    await Promise.all(apps.map((a) => a.stop()));
    await startBoth(SECOND_PASSWORD);
    for (const app of apps) expect((await orders(app, old)).status).toBe(401);
    expect((await login(apps[0], '127.0.0.14', FIRST_PASSWORD)).status).toBe(401);
    const now = await login(apps[0], '127.0.0.14', SECOND_PASSWORD, { cookie: old });
    expect(now.status).toBe(200);
    expect((await orders(apps[1], sessionCookie(now))).status).toBe(200);
  });

  it(`caps wrong passwords from all addresses together at ${GLOBAL_MAX_FAILURES}: then 429 with Retry-After at once, but a browser that logged in before still gets in`, async () => {
    // A browser the merchant logged in with before the attack (its cookie carries a device id).
    const known = await login(apps[0], '127.0.0.15', SECOND_PASSWORD);
    expect(known.status).toBe(200);
    const knownCookie = sessionCookie(known);
    await requestFrom('127.0.0.15', apps[0].port, '/api/merchant/session', { method: 'DELETE', headers: { cookie: knownCookie } });

    const used = await failures('*');
    expect(used).toBeLessThan(GLOBAL_MAX_FAILURES);
    // 12 fresh addresses, each staying within its own limit: only the shared cap can stop them.
    const attack = await Promise.all(Array.from({ length: 12 * MAX_FAILURES }, (_, i) =>
      login(apps[i % 2], `127.0.1.${1 + (i % 12)}`, `botnet-${i}`)));
    expect(tally(attack)).toEqual({ 401: GLOBAL_MAX_FAILURES - used, 429: 12 * MAX_FAILURES - (GLOBAL_MAX_FAILURES - used) });
    for (const r of attack.filter((x) => x.status === 429)) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await r.json()).toMatchObject({ code: 'THROTTLED', scope: 'all' });
    }
    expect(await failures('*')).toBe(GLOBAL_MAX_FAILURES);

    // A new address is refused before its password is looked at, even the right one, with when to come back.
    const fresh = await login(apps[1], '127.0.2.1', SECOND_PASSWORD);
    expect(fresh.status).toBe(429);
    expect(Number(fresh.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(fresh.headers.get('retry-after'))).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect(await fresh.json()).toMatchObject({ code: 'THROTTLED', scope: 'all' });
    // The known browser gets in, even from the address locked in the first test.
    const mine = await login(apps[1], '127.0.0.11', SECOND_PASSWORD, { cookie: knownCookie });
    expect(mine.status).toBe(200);
    expect((await orders(apps[0], sessionCookie(mine))).status).toBe(200);
    // A stolen known-browser cookie is no way around the limits: it has its own five.
    const thief = await Promise.all(Array.from({ length: 8 }, (_, i) => login(apps[i % 2], `127.0.3.${i + 1}`, `stolen-${i}`, { cookie: knownCookie })));
    expect(tally(thief)).toEqual({ 401: MAX_FAILURES, 429: 8 - MAX_FAILURES });
    expect(await failures('*')).toBe(GLOBAL_MAX_FAILURES);
  });

  it('refuses a login body over 4 KB while it streams in, without waiting for its end', async () => {
    // A chunked body that never ends: a server that buffers the whole body before checking never answers.
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: apps[0].port, path: '/api/merchant/session', method: 'POST', headers: { 'content-type': 'application/json' } });
      req.on('response', (res) => {
        resolve(res.statusCode!);
        res.resume();
        req.destroy();
      });
      req.on('error', (e) => reject(e));
      const chunk = Buffer.alloc(16 * 1024, 'a');
      let sent = 0;
      const pump = () => {
        while (sent < 4 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
      };
      req.write('{"password": "');
      pump();
    });
    expect(status).toBe(400);
  }, 30_000);
});
