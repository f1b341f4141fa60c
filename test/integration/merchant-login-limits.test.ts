import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, initDb } from '@/lib/db';
import { ENGINES, freshDatabaseUrl } from '../helpers/db';
import { actAsInstanceOf } from '../helpers/in-process';
import type { AppServer } from '../helpers/server';

/**
 * The login throttle and merchant sessions called in this process on a real database, with `now`
 * passed in: windows and idle limits are checked at chosen times instead of waited for.
 */
type Merchant = typeof import('@/lib/checkout/merchant');
const PASSWORD = 'in-process merchant password';
const MIN = 60_000;

describe.each(ENGINES)('merchant login limits and sessions in-process on %s', (engine) => {
  let handle: DbHandle;
  let m: Merchant;
  const from = (peer: string) => ({ peer, forwardedFor: null });
  const rows = async () => handle.db.selectFrom('merchant_login_throttle').selectAll().orderBy('key').execute();

  beforeAll(async () => {
    const databaseUrl = await freshDatabaseUrl(engine);
    handle = await initDb(databaseUrl);
    // No server: only the database and the merchant settings matter here.
    const noServer = { databaseUrl, baseUrl: 'http://127.0.0.1:9', port: 9 } as AppServer;
    actAsInstanceOf(noServer, handle, { MERCHANT_PASSWORD: PASSWORD, SESSION_SECRET: 'in-process-session-secret-0123456789abcdef' });
    m = await import('@/lib/checkout/merchant');
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('a parallel burst from one address gets exactly MAX_FAILURES compares, on one connection pool', async () => {
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => m.logInMerchant({ password: `burst-${i}`, client: from('192.0.2.50'), locale: 'en', now: t0 })));
    expect(rs.filter((r) => !r.ok && r.code === 'BAD_PASSWORD')).toHaveLength(m.MAX_FAILURES);
    expect(rs.filter((r) => !r.ok && r.code === 'THROTTLED')).toHaveLength(20 - m.MAX_FAILURES);
  });

  it('locks an address for the rest of its window, then forgets it; rows of stale keys are deleted', async () => {
    const t0 = Date.parse('2026-04-01T00:00:00Z');
    for (let i = 0; i < m.MAX_FAILURES; i++) {
      expect(await m.logInMerchant({ password: 'guess', client: from('192.0.2.1'), locale: 'en', now: t0 + i })).toMatchObject({ ok: false, code: 'BAD_PASSWORD' });
    }
    const locked = await m.logInMerchant({ password: PASSWORD, client: from('192.0.2.1'), locale: 'en', now: t0 + 10 * MIN });
    expect(locked).toMatchObject({ ok: false, code: 'THROTTLED', scope: 'client', retryAfterSec: 5 * 60, message: expect.stringContaining('5 minute') });
    // Rotated addresses, one failure each: each leaves a row for its window.
    for (let i = 0; i < 10; i++) await m.logInMerchant({ password: 'guess', client: from(`2001:db8:${i}::1`), now: t0 + MIN });
    expect((await rows()).length).toBe(1 + 1 + 10);

    // Past the window: the lock is gone and so are the rows of every key whose window ended.
    const later = t0 + m.WINDOW_MS + MIN + 1;
    expect(await m.logInMerchant({ password: PASSWORD, client: from('192.0.2.1'), now: later })).toMatchObject({ ok: true });
    const left = await rows();
    expect(left.map((r) => r.key)).toEqual(['*', 'ip:192.0.2.1']);
    expect(left.every((r) => Number(r.failures) === 0)).toBe(true);
  });

  it('never asks to wait longer than one window, even when another instance started it a moment "later"', async () => {
    // Two instances read their clocks before queueing on the row lock: the one that waits may find a
    // window started by the other a few ms after its own `now`. Retry-After stays within WINDOW_MS.
    const t0 = Date.parse('2026-05-01T00:00:00Z');
    for (let i = 0; i < m.MAX_FAILURES; i++) {
      await m.logInMerchant({ password: 'guess', client: from('192.0.2.77'), locale: 'en', now: t0 + 5 });
    }
    const early = await m.logInMerchant({ password: 'guess', client: from('192.0.2.77'), locale: 'en', now: t0 });
    expect(early).toMatchObject({ ok: false, code: 'THROTTLED', scope: 'client', retryAfterSec: m.WINDOW_MS / 1000 });
    await handle.db.deleteFrom('merchant_login_throttle').where('key', '=', 'ip:192.0.2.77').execute();
  });

  it('counts an IPv6 client by its /64: rotating within it does not get more guesses', async () => {
    const t0 = Date.parse('2026-05-01T00:00:00Z');
    const rs = [];
    for (let i = 0; i < 8; i++) rs.push(await m.logInMerchant({ password: 'guess', client: from(`2001:db8:aa:bb::${i + 1}`), now: t0 + i }));
    expect(rs.filter((r) => !r.ok && r.code === 'BAD_PASSWORD')).toHaveLength(m.MAX_FAILURES);
    expect(rs.at(-1)).toMatchObject({ ok: false, code: 'THROTTLED' });
    expect(await m.logInMerchant({ password: PASSWORD, client: from('2001:db8:aa:cc::1'), now: t0 + 10 })).toMatchObject({ ok: true });
  });

  it('refuses bad input without counting it', async () => {
    const t0 = Date.parse('2026-06-01T00:00:00Z');
    for (const password of ['', 'x'.repeat(1025)]) {
      expect(await m.logInMerchant({ password, client: from('192.0.2.77'), now: t0 })).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    }
    expect(await handle.db.selectFrom('merchant_login_throttle').selectAll().where('key', '=', 'ip:192.0.2.77').execute()).toEqual([]);
  });

  it('ends a session after SESSION_IDLE_MS without use; use restarts the idle clock', async () => {
    const t0 = Date.parse('2026-07-01T00:00:00Z');
    const r = await m.logInMerchant({ password: PASSWORD, client: from('192.0.2.9'), now: t0 });
    if (!r.ok) throw new Error(r.message);
    const idle = m.SESSION_IDLE_MS;
    expect(await m.checkMerchantSession(r.sessionId, t0 + idle - MIN)).toBe(true);
    // Used just before going idle: good for another full idle period from then.
    expect(await m.checkMerchantSession(r.sessionId, t0 + 2 * idle - 2 * MIN)).toBe(true);
    expect(await m.checkMerchantSession(r.sessionId, t0 + 3 * idle)).toBe(false);
    // Ended for good, not only at that moment.
    expect(await m.checkMerchantSession(r.sessionId, t0 + 2 * idle)).toBe(false);
    expect(await m.checkMerchantSession(undefined, t0)).toBe(false);
    expect(await m.checkMerchantSession('not-an-id', t0)).toBe(false);
  });

  it('ends a session SESSION_MAX_MS after login however busy, and at logout', async () => {
    const t0 = Date.parse('2026-08-01T00:00:00Z');
    const r = await m.logInMerchant({ password: PASSWORD, client: from('192.0.2.10'), now: t0 });
    if (!r.ok) throw new Error(r.message);
    for (let t = t0; t < t0 + m.SESSION_MAX_MS; t += 20 * MIN) expect(await m.checkMerchantSession(r.sessionId, t)).toBe(true);
    // Used a minute ago, so only the absolute limit can end it now.
    expect(await m.checkMerchantSession(r.sessionId, t0 + m.SESSION_MAX_MS - MIN)).toBe(true);
    expect(await m.checkMerchantSession(r.sessionId, t0 + m.SESSION_MAX_MS + 1)).toBe(false);

    const again = await m.logInMerchant({ password: PASSWORD, client: from('192.0.2.10'), now: t0 });
    if (!again.ok) throw new Error(again.message);
    expect(await m.checkMerchantSession(again.sessionId, t0 + MIN)).toBe(true);
    await m.revokeMerchantSession(again.sessionId);
    expect(await m.checkMerchantSession(again.sessionId, t0 + 2 * MIN)).toBe(false);
  });
});
