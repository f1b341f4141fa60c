import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { actionId, callAction } from '../helpers/actions';
import { ENGINES, freshDatabaseUrl } from '../helpers/db';
import { sandboxOrders } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';

type Started = { ok: true; orderId: string; kind: string } | { ok: false; code: string; message: string; retryAfterSec?: number };

/**
 * The order-creation rate limit, end to end: the shop's startPayment server action called over real
 * HTTP, as the pay button does, with no cookie (a fresh buyer each time) or a kept one, on TWO app
 * instances sharing one database, so the count can only hold if it lives in the database. Default
 * limits: 10 new orders per buyer and 30 per client address in 10 minutes.
 */
describe.each(ENGINES)('order-creation rate limit on %s', (engine) => {
  let a: AppServer;
  let b: AppServer;
  let h: DbHandle;
  let id: string;

  beforeAll(async () => {
    const databaseUrl = await freshDatabaseUrl(engine);
    // One after the other: the first migrates and seeds the shared database.
    a = await startApp({ databaseUrl, env: { RECONCILE_INTERVAL_MS: '0' } });
    b = await startApp({ databaseUrl, env: { RECONCILE_INTERVAL_MS: '0' } });
    h = openDb(databaseUrl);
    id = actionId('app/shop/[sku]/actions.ts', 'startPayment');
  });
  afterAll(async () => {
    await h?.close();
    await a?.stop();
    await b?.stop();
  });

  /** The pay button on /shop/[sku] of `app`, sent from the loopback source address `ip` (the client address the app sees). */
  const pay = (app: AppServer, ip: string, input: { sku: string; quantity: number; orderId?: string }, more: Record<string, string> = {}) =>
    callAction<Started>(app.baseUrl, `/shop/${input.sku}`, id, [input], { 'accept-language': 'zh-CN', ...more }, ip);
  const orderCount = async () => Number((await h.db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const unifiedOrders = async () => (await sandboxOrders(a.baseUrl)).orders.length;

  it('a burst of new buyers from one address stops making orders and unifiedorders at 30, across instances; reuse is never limited', async () => {
    const [orders0, sim0] = [await orderCount(), await unifiedOrders()];
    const burst = await Promise.all(Array.from({ length: 36 }, (_, i) => pay(i % 2 ? b : a, '127.0.51.20', { sku: 'green-tea', quantity: 1 })));
    const made = burst.filter((r) => r.result.ok);
    const limited = burst.filter((r) => !r.result.ok);
    expect(made).toHaveLength(30);
    expect(new Set(made.map((r) => (r.result as { orderId: string }).orderId)).size).toBe(30);
    expect(limited).toHaveLength(6);
    for (const r of limited) {
      expect(r.result).toMatchObject({ ok: false, code: 'RATE_LIMITED' });
      const { message, retryAfterSec } = r.result as { message: string; retryAfterSec: number };
      expect(message).toMatch(/^下单太频繁，请 \d+ 分钟后再试。/);
      expect(retryAfterSec).toBeGreaterThan(0);
      expect(retryAfterSec).toBeLessThanOrEqual(600);
    }
    expect(await orderCount()).toBe(orders0 + 30);
    expect(await unifiedOrders()).toBe(sim0 + 30);

    // A buyer who got an order before the limit resumes it, on either instance: same order, no unifiedorder.
    const first = made[0];
    const firstOrder = (first.result as { orderId: string }).orderId;
    for (const app of [a, b]) {
      const again = await pay(app, '127.0.51.20', { sku: 'green-tea', quantity: 1 }, { cookie: first.cookie! });
      expect(again.result).toMatchObject({ ok: true, orderId: firstOrder, kind: 'native' });
      const payAgain = await pay(app, '127.0.51.20', { sku: 'green-tea', quantity: 1, orderId: firstOrder }, { cookie: first.cookie! });
      expect(payAgain.result).toMatchObject({ ok: true, orderId: firstOrder });
    }
    expect(await orderCount()).toBe(orders0 + 30);
    expect(await unifiedOrders()).toBe(sim0 + 30);

    // The limit is per address: a new buyer elsewhere still gets an order.
    const elsewhere = await pay(b, '127.0.51.21', { sku: 'green-tea', quantity: 1 });
    expect(elsewhere.result).toMatchObject({ ok: true });
    expect(await orderCount()).toBe(orders0 + 31);
  });

  it('one buyer making new orders (other quantities, other addresses) stops at 10, with the English message', async () => {
    const start = await pay(a, '127.0.113.1', { sku: 'coffee-beans', quantity: 1 }, { 'accept-language': 'en' });
    expect(start.result).toMatchObject({ ok: true });
    const cookie = start.cookie!;
    const orders0 = await orderCount();
    const results: Started[] = [];
    for (let q = 2; q <= 11; q++) {
      results.push((await pay(q % 2 ? a : b, `127.0.113.${q}`, { sku: 'coffee-beans', quantity: q }, { cookie, 'accept-language': 'en' })).result);
    }
    expect(results.slice(0, 9).every((r) => r.ok)).toBe(true);
    expect(results[9]).toMatchObject({ ok: false, code: 'RATE_LIMITED' });
    expect((results[9] as { message: string }).message).toMatch(/^Too many new orders from this browser or network\. Please try again in \d+ min\./);
    expect(await orderCount()).toBe(orders0 + 9);
    // Still their first order is theirs to pay.
    const resume = await pay(b, '127.0.113.99', { sku: 'coffee-beans', quantity: 1 }, { cookie });
    expect(resume.result).toMatchObject({ ok: true, orderId: (start.result as { orderId: string }).orderId });
  });
});
