import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attemptRow, type CheckoutUnderTest, checkoutAgainst, orderRow, seedPaidOrder } from '../helpers/checkout-unit';
import { freshDatabaseUrl } from '../helpers/db';
import { addAttempt, insertOrder } from '../helpers/orders';

/**
 * applyPayment on PostgreSQL (lib/checkout/payments/apply-short.ts): a payment of an open attempt takes
 * four statements, BEGIN, one statement (attempt, order, audit row), the webhook event with the
 * endpoints' read, COMMIT; one that does not fit the short path leaves nothing of it behind and gets
 * the general path's answer. Statements are counted at the pg driver's Client.query (the library's,
 * not ours), which every statement of the app's pool goes through.
 */
describe('applyPayment on PostgreSQL: the short path (SQLite: test/unit/checkout/apply-short-sqlite.test.ts)', () => {
  let app: CheckoutUnderTest;
  let payments: typeof import('@/lib/checkout/payments');
  const sent: string[] = [];
  /** The statement names given with what was sent (null: unnamed), same order as `sent`. */
  const names: Array<string | null> = [];
  const query = pg.Client.prototype.query;

  beforeAll(async () => {
    app = await checkoutAgainst(null, { DATABASE_URL: await freshDatabaseUrl('postgres') });
    payments = await import('@/lib/checkout/payments');
    pg.Client.prototype.query = function counted(this: pg.Client, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
      if (text) {
        sent.push(text);
        names.push(typeof args[0] === 'object' ? ((args[0] as { name?: string }).name ?? null) : null);
      }
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
  });
  afterAll(async () => {
    pg.Client.prototype.query = query;
    await app?.close();
  });
  beforeEach(() => {
    sent.length = 0;
    names.length = 0;
  });

  // checkout-unit's eventsOf orders by SQLite's rowid.
  const eventsOf = (orderId: string) => app.db.selectFrom('payment_events').selectAll().where('order_id', '=', orderId).orderBy('at').execute();
  const pay = (outTradeNo: string, totalFee: number, transactionId = `42${Date.now()}${Math.random().toString().slice(2, 12)}`) =>
    payments.applyPayment({ source: 'notify', outTradeNo, transactionId, totalFee, raw: '<xml/>' });

  it('an open attempt of a pending order: four statements, and everything the general path writes', async () => {
    const a = await insertOrder(app.db, { amountFen: 700 });
    await app.db.insertInto('webhook_endpoints').values({
      id: 'we_short', url: 'https://merchant.example/hook', events: '["checkout.session.paid"]', secret: 'whsec_x', created_at: new Date().toISOString(), updated_at: new Date().toISOString(), disabled_at: null,
    }).execute();
    sent.length = 0;
    names.length = 0;

    const r = await pay(a.outTradeNo, 700, '4200000000000000000000000701');
    expect(r).toMatchObject({ outcome: 'applied', orderId: a.orderId });
    expect(sent.map((t) => t.slice(0, 60))).toEqual([
      'begin',
      expect.stringMatching(/^with "a" as \(update "payment_attempts"/),
      expect.stringMatching(/^with "inserted" as \(insert into "webhook_events"/),
      expect.stringMatching(/^insert into "webhook_deliveries"/),
      'commit',
    ]);
    // The two hot statements go as named prepared statements (parsed once per session: lib/db/pg-named.ts).
    expect(names).toEqual([null, expect.stringMatching(/^k_[0-9a-f]{24}$/), expect.stringMatching(/^k_[0-9a-f]{24}$/), null, null]);
    expect(await orderRow(app.db, a.orderId)).toMatchObject({ status: 'paid', transaction_id: '4200000000000000000000000701' });
    expect(await attemptRow(app.db, a.outTradeNo)).toMatchObject({ status: 'paid', transaction_id: '4200000000000000000000000701', cash_fen: null });
    const events = await eventsOf(a.orderId);
    expect(events.map((e) => [e.source, e.outcome, e.out_trade_no, e.raw])).toEqual([['notify', 'applied', a.outTradeNo, '<xml/>']]);
    expect(events[0].detail).toBe(r.detail);
    const hooks = await app.db.selectFrom('webhook_events').select(['id', 'type', 'payload']).where('order_id', '=', a.orderId).execute();
    expect(hooks.map((h) => h.type)).toEqual(['checkout.session.paid']);
    expect(JSON.parse(hooks[0].payload).data.object).toMatchObject({ id: a.orderId, status: 'paid', amount_fen: 700 });
    const deliveries = await app.db.selectFrom('webhook_deliveries').select(['endpoint_id', 'status']).where('event_id', '=', hooks[0].id).execute();
    expect(deliveries).toEqual([{ endpoint_id: 'we_short', status: 'pending' }]);
    await app.db.deleteFrom('webhook_deliveries').execute();
    await app.db.deleteFrom('webhook_endpoints').execute();
  });

  it('another amount: the short path leaves nothing, the general path refuses it', async () => {
    const a = await insertOrder(app.db, { amountFen: 500 });
    expect(await pay(a.outTradeNo, 499)).toMatchObject({ outcome: 'rejected', code: 'AMOUNT_MISMATCH' });
    expect(sent).toContain('rollback');
    expect(await orderRow(app.db, a.orderId)).toMatchObject({ status: 'pending', transaction_id: null });
    expect(await attemptRow(app.db, a.outTradeNo)).toMatchObject({ status: 'open', transaction_id: null });
    expect((await eventsOf(a.orderId)).map((e) => e.outcome)).toEqual(['rejected']);
  });

  it('an order already paid through another attempt: one DUPLICATE_PAYMENT row, a refund reserved, no stray audit row', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 300 });
    const second = await addAttempt(app.db, paid.orderId);
    const r = await pay(second.outTradeNo, 300);
    expect(r.outcome).toBe('duplicate_payment');
    expect(sent).toContain('rollback');
    const events = (await eventsOf(paid.orderId)).filter((e) => e.out_trade_no === second.outTradeNo && e.source === 'notify');
    expect(events.map((e) => e.detail.slice(0, 18))).toEqual(['DUPLICATE_PAYMENT:']);
    expect(await app.db.selectFrom('refunds').select('out_trade_no').where('order_id', '=', paid.orderId).execute()).toEqual([{ out_trade_no: second.outTradeNo }]);
  });

  it('the same payment twice at once: one applies, the other is a repeat, one applied row', async () => {
    const a = await insertOrder(app.db, { amountFen: 100 });
    const outcomes = await Promise.all([pay(a.outTradeNo, 100, '4200000000000000000000000102'), pay(a.outTradeNo, 100, '4200000000000000000000000102')]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['applied', 'duplicate']);
    expect((await eventsOf(a.orderId)).map((e) => e.outcome).sort()).toEqual(['applied', 'duplicate']);
  });
});
