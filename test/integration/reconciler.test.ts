import { Client } from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { SANDBOX_API_KEY } from '@/lib/config';
import { ENGINES } from '../helpers/db';
import { actAsInstanceOf } from '../helpers/in-process';
import { placeSandboxAttempt, sandboxPay, type TestAttempt, waitFor } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';
import { signedPaymentNotify } from '../helpers/wechatpay-fixtures';
import { paidTransaction, sandboxSecrets, v3Notify, VERSIONS } from '../helpers/v3';

type SimOrder = { out_trade_no: string; state: string; deliveries: unknown[] };

/**
 * The reconciler against the real sandbox over HTTP: a sweep every 200 ms, orderquery for attempts
 * open longer than 1.5 s without a notify.
 */
const SUITES = ENGINES.flatMap((engine) => VERSIONS.map((version) => [engine, version] as const));

describe.each(SUITES)('reconciler on %s, API %s', (engine, version) => {
  let app: AppServer;
  let h: DbHandle;
  beforeAll(async () => {
    // Closes trades seconds after placing them: WeChat's 5-minute closeorder rule is off here (wx-closeorder.test.ts keeps it).
    app = await startApp({ engine, env: { RECONCILE_INTERVAL_MS: '200', RECONCILE_GRACE_MS: '1500', WECHATPAY_API_VERSION: version, SANDBOX_CLOSE_MIN_AGE_S: '0' } });
    h = openDb(app.databaseUrl);
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });
  beforeEach(async () => {
    await fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'DELETE' });
  });

  const fault = async (f: Record<string, unknown>) => {
    const r = await fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(f) });
    expect(r.ok).toBe(true);
  };
  const simOrder = async (otn: string) => {
    const r = (await (await fetch(`${app.baseUrl}/sandbox/sim/orders`)).json()) as { orders: SimOrder[] };
    return r.orders.find((o) => o.out_trade_no === otn);
  };
  const attempt = (a: TestAttempt) => h.db.selectFrom('payment_attempts').selectAll().where('out_trade_no', '=', a.outTradeNo).executeTakeFirstOrThrow();
  const order = (a: TestAttempt) => h.db.selectFrom('orders').selectAll().where('id', '=', a.orderId).executeTakeFirstOrThrow();
  const events = (a: TestAttempt) => h.db.selectFrom('payment_events').selectAll().where('order_id', '=', a.orderId).orderBy('at').execute();

  it('marks the order paid through orderquery when the sandbox drops the notify', async () => {
    await fault({ fault: 'DROP_NOTIFY', count: 1 });
    const a = await placeSandboxAttempt(app, h.db, { amountFen: 6800, sku: 'green-tea', protocol: version });
    await sandboxPay(app.baseUrl, a.codeUrl!);
    expect((await simOrder(a.outTradeNo))?.state).toBe('SUCCESS');
    // Not "still pending" here: on a loaded machine the 1.5 s grace may already be over. What proves the
    // reconciler did it is below: no notify event, the payment applied by a query, no delivery queued.
    const paid = await waitFor(async () => ((await order(a)).status === 'paid' ? order(a) : undefined), 15_000, 'the reconciler to apply the payment');
    expect(paid.transaction_id).toMatch(/^\d{20,}$/);
    expect((await attempt(a)).status).toBe('paid');
    const evs = await events(a);
    expect(evs.filter((e) => e.source === 'notify')).toEqual([]);
    expect(evs.filter((e) => e.outcome === 'applied').map((e) => e.source)).toEqual(['query']);
    expect((await simOrder(a.outTradeNo))?.deliveries).toEqual([]);
  });

  it('closes an expired attempt at the sandbox and in the app, and the unpaid order with it', async () => {
    const a = await placeSandboxAttempt(app, h.db, { expiresInMs: 300, protocol: version });
    await waitFor(async () => (await attempt(a)).status === 'closed', 15_000, 'the attempt to close');
    expect((await simOrder(a.outTradeNo))?.state).toBe('CLOSED');
    expect((await order(a)).status).toBe('closed');
    const evs = await events(a);
    expect(evs.map((e) => `${e.source}/${e.outcome}`)).toEqual(['close/applied', 'close/applied']);
    expect(evs[1].detail).toMatch(/payment window expired/);
    // WeChat refuses to take money on it now.
    const r = await fetch(`${app.baseUrl}/sandbox/sim/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code_url: a.codeUrl }) });
    expect(r.ok).toBe(false);
  });

  it('an expired attempt paid meanwhile (notify lost): closeorder says ORDERPAID and the order is paid', async () => {
    await fault({ fault: 'DROP_NOTIFY', count: 1 });
    const a = await placeSandboxAttempt(app, h.db, { expiresInMs: 60_000, protocol: version });
    await sandboxPay(app.baseUrl, a.codeUrl!);
    // Now the app-side window closes before the grace passes: the reconciler tries closeorder first.
    await h.db.updateTable('payment_attempts').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('out_trade_no', '=', a.outTradeNo).execute();
    await waitFor(async () => (await order(a)).status === 'paid', 15_000, 'ORDERPAID to be applied');
    expect((await attempt(a)).status).toBe('paid');
    expect((await simOrder(a.outTradeNo))?.state).toBe('SUCCESS');
  });

  it("closes the other open attempt of an order paid through one of them", async () => {
    const first = await placeSandboxAttempt(app, h.db, { protocol: version });
    const second = await placeSandboxAttempt(app, h.db, { orderId: first.orderId, protocol: version });
    await sandboxPay(app.baseUrl, first.codeUrl!);
    await waitFor(async () => (await order(first)).status === 'paid', 15_000, 'the notify');
    await waitFor(async () => (await attempt(second)).status === 'closed', 15_000, 'the stray attempt to close');
    expect((await simOrder(second.outTradeNo))?.state).toBe('CLOSED');
    expect((await order(first)).status).toBe('paid');
    expect((await order(first)).duplicate_paid).toBe(0);
  });

  it('keeps going when the sandbox errors: each HTTP 500 on orderquery (one per sweep: a sweep\'s query is not retried by the client) is asked again on the next sweep', async () => {
    await fault({ fault: 'DROP_NOTIFY', count: 1 });
    // Two errors: three claims, each at least the polls' 4 s after the last (a claim is shared with them).
    await fault({ api: 'orderquery', fault: 'HTTP500', count: 2 });
    const a = await placeSandboxAttempt(app, h.db, { protocol: version });
    await sandboxPay(app.baseUrl, a.codeUrl!);
    await waitFor(async () => (await order(a)).status === 'paid', 20_000, 'the payment after the errors');
    expect((await events(a)).filter((e) => e.outcome === 'applied').map((e) => e.source)).toEqual(['query']);
  });

  it('a notify arriving after the reconciler applied the payment is a harmless repeat', async () => {
    await fault({ fault: 'DROP_NOTIFY', count: 1 });
    const a = await placeSandboxAttempt(app, h.db, { protocol: version });
    await sandboxPay(app.baseUrl, a.codeUrl!);
    const paid = await waitFor(async () => ((await order(a)).status === 'paid' ? order(a) : undefined), 15_000, 'the reconciler');
    if (version === 'v2') {
      const late = signedPaymentNotify({ out_trade_no: a.outTradeNo, transaction_id: paid.transaction_id! }, { apiKey: SANDBOX_API_KEY });
      const r = await fetch(`${app.baseUrl}/api/wechatpay/notify`, { method: 'POST', body: late });
      expect(await r.text()).toContain('SUCCESS');
    } else {
      const late = v3Notify(sandboxSecrets(app), paidTransaction(a.outTradeNo, { transaction_id: paid.transaction_id! }));
      const r = await fetch(`${app.baseUrl}/api/wechatpay/notify`, { method: 'POST', headers: late.headers, body: late.body });
      expect(r.status).toBe(204);
    }
    expect((await events(a)).map((e) => `${e.source}/${e.outcome}`)).toEqual(['query/applied', 'notify/duplicate']);
  });
});

describe('reconciler on postgres with several instances', () => {
  let app: AppServer;
  let h: DbHandle;
  let rec: typeof import('@/lib/checkout/reconciler');
  let config: import('@/lib/config').AppConfig;
  const settings = { intervalMs: 0, graceMs: 0, batch: 50 };
  beforeAll(async () => {
    // The app itself never sweeps here: this test process is the instance whose rounds are observed.
    app = await startApp({ engine: 'postgres', env: { RECONCILE_INTERVAL_MS: '0' } });
    h = openDb(app.databaseUrl);
    actAsInstanceOf(app, h);
    rec = await import('@/lib/checkout/reconciler');
    config = (await import('@/lib/config')).getConfig();
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });
  const status = async (orderId: string) => (await h.db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirstOrThrow()).status;

  it('runs only on the instance holding the advisory lock', async () => {
    // Another instance (this test's own connection) holds the lock: this one must not sweep.
    const other = new Client({ connectionString: app.databaseUrl });
    await other.connect();
    try {
      await other.query('select pg_advisory_lock(727300611)');
      await fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault: 'DROP_NOTIFY', count: 1 }) });
      const a = await placeSandboxAttempt(app, h.db);
      await sandboxPay(app.baseUrl, a.codeUrl!);
      expect(await rec.reconcileRound(config, settings)).toEqual({ ran: false });
      expect(await status(a.orderId)).toBe('pending');
      await other.query('select pg_advisory_unlock(727300611)');
      const r = await rec.reconcileRound(config, settings);
      expect(r.ran).toBe(true);
      expect(await status(a.orderId)).toBe('paid');
    } finally {
      await other.end();
    }
  });

  it('releases the lock when a round fails, so the next round (on any instance) can sweep', async () => {
    // A batch PostgreSQL refuses (LIMIT must not be negative) makes the round throw mid-sweep.
    await expect(rec.reconcileRound(config, { ...settings, batch: -1 })).rejects.toThrow(/LIMIT/i);
    const other = new Client({ connectionString: app.databaseUrl });
    await other.connect();
    try {
      const r = await other.query<{ locked: boolean }>('select pg_try_advisory_lock(727300611) as locked');
      expect(r.rows[0].locked).toBe(true);
      await other.query('select pg_advisory_unlock(727300611)');
    } finally {
      await other.end();
    }
    expect((await rec.reconcileRound(config, settings)).ran).toBe(true);
  });
});
