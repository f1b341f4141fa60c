import BetterSqlite3 from 'better-sqlite3';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { SANDBOX_API_KEY } from '@/lib/config';
import { ENGINES } from '../helpers/db';
import { insertOrder, type TestAttempt, waitFor } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';
import { signedPaymentNotify } from '../helpers/wechatpay-fixtures';

const SUCCESS = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';

/**
 * The database fails while a notify is inside its transaction. SQLite: another connection holds the
 * write lock (BEGIN EXCLUSIVE) until the app's busy timeout gives up. PostgreSQL: another session holds
 * an EXCLUSIVE lock on payment_events, so the app's transaction has already updated the attempt and the
 * order when it blocks on the event insert; then its backend is terminated. Either way: FAIL, nothing
 * of that transaction remains, and WeChat's retry applies once the database is back.
 */
describe.each(ENGINES)('notify while the database fails, on %s', (engine) => {
  let app: AppServer;
  let h: DbHandle;
  beforeAll(async () => {
    // The webhook deliverer polls every 50 ms: while another process holds SQLite's write lock, an idle
    // poll must not wait for it (a busy wait stops the whole event loop, and the notify behind it).
    app = await startApp({ engine, env: { RECONCILE_INTERVAL_MS: '0', WEBHOOK_POLL_MS: '50' } });
    h = openDb(app.databaseUrl);
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });

  const snapshot = async (a: TestAttempt) => ({
    order: await h.db.selectFrom('orders').select(['status', 'transaction_id', 'paid_at']).where('id', '=', a.orderId).executeTakeFirstOrThrow(),
    attempt: await h.db.selectFrom('payment_attempts').select(['status', 'transaction_id']).where('out_trade_no', '=', a.outTradeNo).executeTakeFirstOrThrow(),
    events: await h.db.selectFrom('payment_events').select(['outcome']).where('out_trade_no', '=', a.outTradeNo).execute(),
  });

  it('answers FAIL, writes nothing, and the retried notify applies', async () => {
    const a = await insertOrder(h.db);
    const body = signedPaymentNotify({ out_trade_no: a.outTradeNo }, { apiKey: SANDBOX_API_KEY });
    const send = () => fetch(`${app.baseUrl}/api/wechatpay/notify`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body }).then(async (r) => ({ status: r.status, text: await r.text() }));

    let reply: { status: number; text: string };
    if (engine === 'sqlite') {
      const file = app.databaseUrl.slice('file:'.length);
      const locker = new BetterSqlite3(file);
      try {
        locker.exec('BEGIN EXCLUSIVE');
        // Waits out the app's 5 s busy timeout (behind any other writer of the app's one connection), then fails.
        reply = await send();
      } finally {
        if (locker.inTransaction) locker.exec('ROLLBACK');
        locker.close();
      }
    } else {
      const locker = new Client({ connectionString: app.databaseUrl });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE payment_events IN EXCLUSIVE MODE');
        const pending = send();
        // The app's transaction is now inside: attempt and order updated, blocked on the event insert.
        // (Blocked while parsing the insert, pg_stat_activity still shows its previous statement: ask pg_locks.)
        const pid = await waitFor(async () => {
          const r = await locker.query(`select pid from pg_locks where relation = 'payment_events'::regclass and not granted`);
          return r.rows[0]?.pid as number | undefined;
        }, 10_000, 'the notify transaction to block');
        // ...holding the row locks of the attempt and order it has already updated in that transaction.
        const held = await locker.query(
          `select c.relname from pg_locks l join pg_class c on c.oid = l.relation where l.pid = $1 and l.granted and l.mode = 'RowExclusiveLock' order by 1`,
          [pid],
        );
        expect(held.rows.map((x) => x.relname)).toEqual(expect.arrayContaining(['orders', 'payment_attempts']));
        await locker.query('select pg_terminate_backend($1)', [pid]);
        reply = await pending;
      } finally {
        await locker.query('ROLLBACK').catch(() => {});
        await locker.end();
      }
    }
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('<return_code><![CDATA[FAIL]]></return_code>');
    const after = await snapshot(a);
    expect(after.order).toEqual({ status: 'pending', transaction_id: null, paid_at: null });
    expect(after.attempt).toEqual({ status: 'open', transaction_id: null });
    expect(after.events).toEqual([]);

    // The database is back: WeChat's retry applies, exactly once.
    const retry = await send();
    expect(retry).toEqual({ status: 200, text: SUCCESS });
    const done = await snapshot(a);
    expect(done.order.status).toBe('paid');
    expect(done.attempt.status).toBe('paid');
    expect(done.events.map((e) => e.outcome)).toEqual(['applied']);
    // Only the notify met the lock: the background workers' idle passes read and never waited for it.
    expect(app.logs()).not.toMatch(/"event":"(webhook_deliverer|sandbox_notify)".*database is locked/);
    // The app keeps serving: its pool replaced the killed connection.
    expect((await fetch(`${app.baseUrl}/api/health`)).status).toBe(200);
  });
});
