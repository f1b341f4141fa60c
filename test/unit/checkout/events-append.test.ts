import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckoutUnderTest, checkoutAgainst } from '../../helpers/checkout-unit';

/**
 * appendEvent (lib/checkout/kernel): audit rows written outside any transaction (repeats, refusals)
 * share INSERTs under load: the rows appended while one INSERT runs go into the next, one statement.
 */
describe('appendEvent: audit rows appended together share one INSERT', () => {
  let app: CheckoutUnderTest;
  let kernel: typeof import('@/lib/checkout/kernel');

  beforeAll(async () => {
    app = await checkoutAgainst(null);
    kernel = await import('@/lib/checkout/kernel');
  });
  afterAll(async () => {
    await app?.close();
  });

  const event = (n: number, tag: string) => ({ orderId: null, outTradeNo: `P${tag}${n}`, source: 'notify' as const, outcome: 'duplicate' as const, detail: `${tag} ${n}`, raw: '<xml/>' });
  const rowsTagged = (tag: string) => app.db.selectFrom('payment_events').select(['id', 'detail']).where('detail', 'like', `${tag} %`).execute();

  it('alone, a row is inserted at once; appended meanwhile, the rest go in the next INSERT, all committed', async () => {
    const before = kernel.appendStats(app.db);
    const ids = await Promise.all(Array.from({ length: 50 }, (_, n) => kernel.appendEvent(app.db, event(n, 'flood'))));
    const after = kernel.appendStats(app.db);
    // The first started an INSERT of its own; the 49 appended while it ran shared the next one.
    expect(after.inserts - before.inserts).toBe(2);
    expect(after.rows - before.rows).toBe(50);
    const rows = await rowsTagged('flood');
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(50);
  });

  it('an INSERT carries at most APPEND_BATCH rows', async () => {
    const before = kernel.appendStats(app.db);
    const n = 2 * kernel.APPEND_BATCH + 50;
    await Promise.all(Array.from({ length: n }, (_, i) => kernel.appendEvent(app.db, event(i, 'bounded'))));
    const after = kernel.appendStats(app.db);
    expect(after.inserts - before.inserts).toBe(1 + Math.ceil((n - 1) / kernel.APPEND_BATCH));
    expect(await rowsTagged('bounded')).toHaveLength(n);
  });

  it('an INSERT that fails fails every row of it, writes none, and the next append works', async () => {
    await sql`alter table payment_events rename to payment_events_away`.execute(app.db);
    let outcomes: PromiseSettledResult<string>[];
    try {
      outcomes = await Promise.allSettled([kernel.appendEvent(app.db, event(1, 'failing')), kernel.appendEvent(app.db, event(2, 'failing'))]);
    } finally {
      await sql`alter table payment_events_away rename to payment_events`.execute(app.db);
    }
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/payment_events/);
    expect(await rowsTagged('failing')).toEqual([]);
    const id = await kernel.appendEvent(app.db, event(3, 'after'));
    expect(await rowsTagged('after')).toEqual([{ id, detail: 'after 3' }]);
  });
});
