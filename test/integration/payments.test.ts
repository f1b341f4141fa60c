import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import type { Database } from '@/lib/db/schema';
import { SANDBOX_API_KEY } from '@/lib/config';
import { ENGINES } from '../helpers/db';
import { placeSandboxAttempt, sandboxClient, sandboxPay, type TestAttempt, waitFor } from '../helpers/orders';
import { actAsInstanceOf } from '../helpers/in-process';
import { type AppServer, startApp } from '../helpers/server';
import { signedPaymentNotify } from '../helpers/wechatpay-fixtures';

/**
 * The transition from every source at once. lib/checkout runs here in the test process configured
 * exactly like the app (its database, its sandbox as WeChat), while the app serves notifies over HTTP:
 * two "instances" on one database, as in production. The sandbox drops notifies where a test wants to
 * deliver them itself.
 */
describe.each(ENGINES)('payment transitions on %s', (engine) => {
  let app: AppServer;
  let h: DbHandle;
  let db: Kysely<Database>;
  let payments: typeof import('@/lib/checkout/payments');

  beforeAll(async () => {
    // Closes trades seconds after placing them: WeChat's 5-minute closeorder rule is off here (wx-closeorder.test.ts keeps it).
    app = await startApp({ engine, env: { RECONCILE_INTERVAL_MS: '0', SANDBOX_CLOSE_MIN_AGE_S: '0' } });
    h = openDb(app.databaseUrl);
    db = h.db;
    actAsInstanceOf(app, h);
    payments = await import('@/lib/checkout/payments');
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });
  beforeEach(async () => {
    await fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'DELETE' });
  });

  const dropNotifies = (count: number) =>
    fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault: 'DROP_NOTIFY', count }) });
  const order = (a: TestAttempt) => db.selectFrom('orders').selectAll().where('id', '=', a.orderId).executeTakeFirstOrThrow();
  const events = (a: TestAttempt) => db.selectFrom('payment_events').selectAll().where('order_id', '=', a.orderId).orderBy('at').execute();
  const simState = async (otn: string) =>
    ((await (await fetch(`${app.baseUrl}/sandbox/sim/orders`)).json()) as { orders: Array<{ out_trade_no: string; state: string }> }).orders.find((o) => o.out_trade_no === otn)?.state;

  it('notify, orderquery and merchant sync racing (40 at once): applied exactly once', async () => {
    await dropNotifies(1);
    const a = await placeSandboxAttempt(app, db);
    await sandboxPay(app.baseUrl, a.codeUrl!);
    const q = await sandboxClient(app.baseUrl).orderQuery({ out_trade_no: a.outTradeNo });
    const notify = signedPaymentNotify({ out_trade_no: a.outTradeNo, transaction_id: q.transaction_id, openid: q.openid }, { apiKey: SANDBOX_API_KEY });
    const racers = Array.from({ length: 40 }, (_, i) =>
      i % 4 === 0
        ? fetch(`${app.baseUrl}/api/wechatpay/notify`, { method: 'POST', body: notify }).then((r) => r.text())
        : i % 4 === 1
          ? payments.syncOrder(a.orderId, 'merchant')
          : payments.confirmAttempt(a.outTradeNo, 'query'),
    );
    const results = await Promise.all(racers);
    for (const r of results.filter((x): x is string => typeof x === 'string')) expect(r).toContain('SUCCESS');
    const evs = await events(a);
    expect(evs.filter((e) => e.outcome === 'applied' && e.detail.startsWith('paid:'))).toHaveLength(1);
    expect(evs.filter((e) => e.outcome === 'rejected')).toEqual([]);
    expect(await order(a)).toMatchObject({ status: 'paid', transaction_id: q.transaction_id, duplicate_paid: 0 });
  });

  it('two attempts of one order paid, confirmed concurrently: one pays the order, the other is refunded', async () => {
    await dropNotifies(2);
    const first = await placeSandboxAttempt(app, db, { amountFen: 4500, sku: 'coffee-beans' });
    const second = await placeSandboxAttempt(app, db, { orderId: first.orderId });
    await sandboxPay(app.baseUrl, first.codeUrl!);
    await sandboxPay(app.baseUrl, second.codeUrl!);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => payments.confirmAttempt(i % 2 ? first.outTradeNo : second.outTradeNo, 'query')),
    );
    expect(outcomes.filter((o) => o.outcome === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'duplicate_payment')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(8);
    const o = await order(first);
    expect(o).toMatchObject({ status: 'paid', duplicate_paid: 1, refunded_fen: 0 });
    const winner = (await db.selectFrom('payment_attempts').select('out_trade_no').where('transaction_id', '=', o.transaction_id).executeTakeFirstOrThrow()).out_trade_no;
    const loser = winner === first.outTradeNo ? second.outTradeNo : first.outTradeNo;
    const refund = await waitFor(async () => {
      const r = await db.selectFrom('refunds').selectAll().where('order_id', '=', first.orderId).execute();
      return r.length === 1 && r[0].status === 'succeeded' ? r[0] : undefined;
    }, 15_000, 'the duplicate refund');
    expect(refund).toMatchObject({ out_trade_no: loser, amount_fen: 4500, origin: 'duplicate' });
    expect(await simState(loser)).toBe('REFUND');
    expect(await simState(winner)).toBe('SUCCESS');
    expect((await order(first)).status).toBe('paid');
  });

  it('status polls: 20 concurrent pollers make one orderquery round, which finds the payment', async () => {
    await dropNotifies(1);
    const a = await placeSandboxAttempt(app, db);
    await sandboxPay(app.baseUrl, a.codeUrl!);
    const statuses = await Promise.all(Array.from({ length: 20 }, () => payments.confirmPendingOrder(a.orderId)));
    expect(statuses).toContain('paid');
    const evs = await events(a);
    // One round only: a second orderquery would have left a `query/duplicate` event.
    expect(evs.map((e) => `${e.source}/${e.outcome}`)).toEqual(['query/applied']);
    expect((await order(a)).last_query_at).toBeTruthy();
  });

  it('status polls: within the gap a poll of a pending order asks nobody; after the gap one asks again', async () => {
    await dropNotifies(1);
    const a = await placeSandboxAttempt(app, db);
    await sandboxPay(app.baseUrl, a.codeUrl!); // paid at WeChat, its notify dropped
    // Another poller asked a moment ago: this poll must not ask again, so it cannot know yet.
    const justNow = new Date().toISOString();
    await db.updateTable('orders').set({ last_query_at: justNow }).where('id', '=', a.orderId).execute();
    expect(await payments.confirmPendingOrder(a.orderId)).toBe('pending');
    expect((await order(a)).last_query_at).toBe(justNow);
    expect(await events(a)).toEqual([]);
    // Past the gap the next poll asks (one orderquery) and finds the payment.
    await db.updateTable('orders').set({ last_query_at: new Date(Date.now() - 60_000).toISOString() }).where('id', '=', a.orderId).execute();
    expect(await payments.confirmPendingOrder(a.orderId)).toBe('paid');
    expect((await events(a)).map((e) => `${e.source}/${e.outcome}`)).toEqual(['query/applied']);
  });

  it('merchant close: closeorder at WeChat for the open attempts, then the order closed', async () => {
    const a = await placeSandboxAttempt(app, db);
    const b = await placeSandboxAttempt(app, db, { orderId: a.orderId });
    expect(await payments.closeUnpaidOrder(a.orderId)).toEqual({ ok: true, status: 'closed' });
    expect(await simState(a.outTradeNo)).toBe('CLOSED');
    expect(await simState(b.outTradeNo)).toBe('CLOSED');
    expect((await order(a)).status).toBe('closed');
    expect(await payments.closeUnpaidOrder(a.orderId)).toEqual({ ok: true, status: 'closed' });
  });

  it('merchant close of an order the buyer just paid (notify lost): ORDERPAID, the order is paid, not closed', async () => {
    await dropNotifies(1);
    const a = await placeSandboxAttempt(app, db);
    await sandboxPay(app.baseUrl, a.codeUrl!);
    const r = await payments.closeUnpaidOrder(a.orderId);
    expect(r).toMatchObject({ ok: false, code: 'ORDER_PAID' });
    expect((await order(a)).status).toBe('paid');
    expect(await payments.closeUnpaidOrder(a.orderId)).toMatchObject({ ok: false, code: 'NOT_PENDING' });
  });

  it('merchant sync finds a payment whose notify was lost, and says what it checked', async () => {
    await dropNotifies(1);
    const a = await placeSandboxAttempt(app, db);
    await sandboxPay(app.baseUrl, a.codeUrl!);
    const r = await payments.syncOrder(a.orderId, 'merchant');
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.notes.join(' ')).toContain(`${a.outTradeNo}: SUCCESS (applied)`);
    expect((await order(a)).status).toBe('paid');
    expect((await events(a)).filter((e) => e.outcome === 'applied').map((e) => e.source)).toEqual(['merchant', 'merchant']);
    expect(await payments.syncOrder('o_missing', 'merchant')).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });
});
