import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { ENGINES } from '../helpers/db';
import { placeSandboxAttempt, sandboxPay, waitFor } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';

type SimOrder = { out_trade_no: string; state: string };

/**
 * The buyer pays the desktop QR and then the second prompt of the same order (two attempts, both paid
 * in the sandbox, both notifies delivered). The second payment is a duplicate: recorded, flagged for the
 * merchant, refunded through the sandbox's refund API, settled by its refund notify; the order itself
 * stays paid (its own payment is untouched).
 */
describe.each(ENGINES)('duplicate payment on %s', (engine) => {
  let app: AppServer;
  let h: DbHandle;
  beforeAll(async () => {
    // Reconciler off: the notify path alone must do it (it would otherwise close the second attempt).
    app = await startApp({ engine, env: { RECONCILE_INTERVAL_MS: '0' } });
    h = openDb(app.databaseUrl);
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });

  it('refunds the second payment automatically and shows the merchant why', async () => {
    const first = await placeSandboxAttempt(app, h.db, { amountFen: 12800, sku: 'mooncake-box' });
    const second = await placeSandboxAttempt(app, h.db, { orderId: first.orderId, tradeType: 'NATIVE' });
    await sandboxPay(app.baseUrl, first.codeUrl!);
    await waitFor(async () => (await h.db.selectFrom('orders').select('status').where('id', '=', first.orderId).executeTakeFirstOrThrow()).status === 'paid', 15_000, 'the first payment');
    const paid = await h.db.selectFrom('orders').selectAll().where('id', '=', first.orderId).executeTakeFirstOrThrow();

    await sandboxPay(app.baseUrl, second.codeUrl!);
    const refund = await waitFor(async () => {
      const r = await h.db.selectFrom('refunds').selectAll().where('order_id', '=', first.orderId).executeTakeFirst();
      return r?.status === 'succeeded' ? r : undefined;
    }, 20_000, 'the duplicate refund to succeed').catch(async (e) => {
      // On failure, say where the refund got stuck: its row, the order's timeline and the server log.
      const rows = await h.db.selectFrom('refunds').selectAll().where('order_id', '=', first.orderId).execute();
      const events = await h.db.selectFrom('payment_events').select(['source', 'outcome', 'detail']).where('order_id', '=', first.orderId).execute();
      const sim = await (await fetch(`${app.baseUrl}/sandbox/sim/orders`)).json().catch(() => null);
      throw new Error(`${(e as Error).message}\nrefunds: ${JSON.stringify(rows)}\nevents: ${JSON.stringify(events)}\nsandbox: ${JSON.stringify(sim)}\nlog:\n${app.logs().slice(-4000)}`);
    });

    expect(refund).toMatchObject({ origin: 'duplicate', out_trade_no: second.outTradeNo, amount_fen: 12800, reason: '重复支付自动退款 duplicate payment' });
    expect(refund.refund_id).toBeTruthy();
    const order = await h.db.selectFrom('orders').selectAll().where('id', '=', first.orderId).executeTakeFirstOrThrow();
    // The order's own payment is intact: still paid by the first transaction, nothing refunded of it.
    expect(order).toMatchObject({ status: 'paid', transaction_id: paid.transaction_id, refunded_fen: 0, duplicate_paid: 1 });
    const attempts = await h.db.selectFrom('payment_attempts').select(['out_trade_no', 'status']).where('order_id', '=', first.orderId).execute();
    expect(attempts.every((a) => a.status === 'paid')).toBe(true);
    expect(await h.db.selectFrom('refunds').selectAll().where('order_id', '=', first.orderId).execute()).toHaveLength(1);

    const sim = (await (await fetch(`${app.baseUrl}/sandbox/sim/orders`)).json()) as { orders: SimOrder[] };
    expect(sim.orders.find((o) => o.out_trade_no === second.outTradeNo)?.state).toBe('REFUND');
    expect(sim.orders.find((o) => o.out_trade_no === first.outTradeNo)?.state).toBe('SUCCESS');

    // The merchant's view.
    const login = await fetch(`${app.baseUrl}/api/merchant/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'sandbox' }) });
    expect(login.status).toBe(200);
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const detail = (await (await fetch(`${app.baseUrl}/api/merchant/orders/${first.orderId}`, { headers: { cookie } })).json()) as {
      order: { status: string; duplicatePaid: boolean };
      refunds: Array<{ origin: string; status: string; outTradeNo: string }>;
      events: Array<{ source: string; outcome: string; detail: string }>;
    };
    expect(detail.order).toMatchObject({ status: 'paid', duplicatePaid: true });
    expect(detail.refunds).toEqual([expect.objectContaining({ origin: 'duplicate', status: 'succeeded', outTradeNo: second.outTradeNo })]);
    const why = detail.events.find((e) => e.detail.startsWith('DUPLICATE_PAYMENT'));
    expect(why?.detail).toContain(`was already paid by transaction ${paid.transaction_id}`);
    expect(why?.detail).toContain('started automatically');
    expect(detail.events.some((e) => e.source === 'refund_notify' && e.outcome === 'applied')).toBe(true);
  });
});
