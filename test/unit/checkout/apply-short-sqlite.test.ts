import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attemptRow, type CheckoutUnderTest, checkoutAgainst, eventsOf, orderRow, seedPaidOrder } from '../../helpers/checkout-unit';
import { addAttempt, insertOrder } from '../../helpers/orders';

/**
 * applyPayment on SQLite (lib/checkout/payments/apply-short.ts): a payment of an open attempt goes
 * straight into the group commit's savepoint, without reading the attempt first; one that does not fit
 * leaves nothing behind and gets the general path's answer. Statements are watched at better-sqlite3
 * (the library's Statement, not ours): every statement the app runs is one of them.
 */
describe('applyPayment on SQLite: the short path', () => {
  let app: CheckoutUnderTest;
  let payments: typeof import('@/lib/checkout/payments');
  const ran: string[] = [];
  const prepare = BetterSqlite3.prototype.prepare;

  beforeAll(async () => {
    BetterSqlite3.prototype.prepare = function watched(this: BetterSqlite3.Database, source: string) {
      const stmt = prepare.call(this, source);
      for (const m of ['run', 'all', 'get'] as const) {
        const inner = stmt[m].bind(stmt) as (...a: unknown[]) => unknown;
        (stmt as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
          ran.push(source.slice(0, 40));
          return inner(...a);
        };
      }
      return stmt;
    } as typeof prepare;
    app = await checkoutAgainst(null);
    payments = await import('@/lib/checkout/payments');
  });
  afterAll(async () => {
    BetterSqlite3.prototype.prepare = prepare;
    await app?.close();
  });
  beforeEach(() => {
    ran.length = 0;
  });

  const pay = (outTradeNo: string, totalFee: number, transactionId = '4200000000000000000000000901') =>
    payments.applyPayment({ source: 'notify', outTradeNo, transactionId, totalFee, raw: '<xml/>' });

  it('an open attempt of a pending order: no read first, the writes in one savepoint of the batch', async () => {
    const a = await insertOrder(app.db, { amountFen: 700 });
    ran.length = 0;
    expect(await pay(a.outTradeNo, 700)).toMatchObject({ outcome: 'applied', orderId: a.orderId });
    expect(ran).toEqual([
      'begin immediate',
      'savepoint batch_job',
      expect.stringMatching(/^update "payment_attempts"/),
      expect.stringMatching(/^update "orders"/),
      expect.stringMatching(/^insert into "payment_events"/),
      expect.stringMatching(/^insert into "webhook_events"/),
      expect.stringMatching(/^select "id", "events" from "webhook_end/),
      'release batch_job',
      'commit',
    ]);
    expect(await orderRow(app.db, a.orderId)).toMatchObject({ status: 'paid', transaction_id: '4200000000000000000000000901' });
    expect((await eventsOf(app.db, a.orderId)).map((e) => e.outcome)).toEqual(['applied']);
  });

  it('another amount: the savepoint is undone, the general path refuses it', async () => {
    const a = await insertOrder(app.db, { amountFen: 500 });
    expect(await pay(a.outTradeNo, 499)).toMatchObject({ outcome: 'rejected', code: 'AMOUNT_MISMATCH' });
    expect(ran).toContain('rollback to batch_job');
    expect(await attemptRow(app.db, a.outTradeNo)).toMatchObject({ status: 'open', transaction_id: null });
    expect((await eventsOf(app.db, a.orderId)).map((e) => e.outcome)).toEqual(['rejected']);
  });

  it('an order already paid through another attempt: undone, then the general path flags the duplicate payment once', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 300 });
    const second = await addAttempt(app.db, paid.orderId);
    expect((await pay(second.outTradeNo, 300, '4200000000000000000000000902')).outcome).toBe('duplicate_payment');
    expect(ran).toContain('rollback to batch_job');
    const events = (await eventsOf(app.db, paid.orderId)).filter((e) => e.out_trade_no === second.outTradeNo && e.source === 'notify');
    expect(events.map((e) => e.detail.slice(0, 18))).toEqual(['DUPLICATE_PAYMENT:']);
    expect(await attemptRow(app.db, second.outTradeNo)).toMatchObject({ status: 'paid', transaction_id: '4200000000000000000000000902' });
  });
});
