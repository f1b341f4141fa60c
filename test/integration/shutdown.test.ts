import type { Kysely } from 'kysely';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '@/lib/checkout/webhooks';
import { SANDBOX_API_KEY } from '@/lib/config';
import { type DbHandle, openDb } from '@/lib/db';
import type { Database } from '@/lib/db/schema';
import { ENGINES } from '../helpers/db';
import { jsonLines } from '../helpers/log-capture';
import { placeSandboxAttempt, sandboxPay, type TestAttempt } from '../helpers/orders';
import { clearFaults, setFaults } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';
import { type Receiver, startReceiver } from '../helpers/webhook-receiver';
import { signedPaymentNotify } from '../helpers/wechatpay-fixtures';

/**
 * SIGTERM in the middle of a burst of payment notifies, while webhook deliveries are in flight to a
 * slow receiver and the reconciler runs every few milliseconds (on PostgreSQL: taking its advisory lock).
 * The graceful shutdown (lib/shutdown.ts) must:
 *  - answer every notify it accepted, and every SUCCESS answer must be applied (attempt and order paid,
 *    one event for that copy) - WeChat never retries a SUCCESS;
 *  - answer nothing with FAIL (the database stays open until the last request is answered);
 *  - finish the webhook attempts in flight and record them (no lease left behind: no delivery waits out
 *    a lease before another instance may retry it);
 *  - log no error, say it shut down cleanly, and exit 0.
 * A notify that found the server closed got no answer at all: WeChat retries it, like after a crash.
 *
 * Why SUCCESS must be durable and a missing answer is safe: WeChat re-sends a notify whose answer was not
 * SUCCESS or timed out (15s/15s/30s/3m/... over 24h) and never re-sends one answered SUCCESS
 * (https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7, 支付结果通知, 注意). Why the app must
 * drive Next's own handler: Next registers SIGTERM/SIGINT itself and a manual handler cannot trigger its
 * server cleanup (vercel/next.js#56810, #83667); see lib/shutdown.ts.
 */

const TRADES = 16;
const COPIES = 2;
const CONCURRENCY = 8;
/** The receiver holds each webhook this long; with EVENTS events two at a time, deliveries are in flight for ~10 s. */
const RECEIVER_DELAY_MS = 2500;
const EVENTS = 8;

interface Trade extends TestAttempt {
  transactionId: string;
}
interface Sent {
  outTradeNo: string;
  nonce: string;
  answer: 'SUCCESS' | 'FAIL' | 'cut';
  /** The answer came after the signal was sent. */
  afterSignal: boolean;
}

const nonceOf = (xml: string) => /<nonce_str>(?:<!\[CDATA\[)?([^<\]]+)/.exec(xml)![1];

describe.each(ENGINES)('SIGTERM during a notify burst, on %s', (engine) => {
  let rx: Receiver;
  const apps: AppServer[] = [];
  const handles: DbHandle[] = [];
  beforeAll(async () => {
    rx = await startReceiver();
    rx.answer('/slow', async () => {
      await new Promise((r) => setTimeout(r, RECEIVER_DELAY_MS));
      return 200;
    });
  });
  afterEach(async () => {
    for (const h of handles.splice(0)) await h.close();
    for (const a of apps.splice(0)) await a.stop();
  });

  async function seed(app: AppServer, db: Kysely<Database>): Promise<Trade[]> {
    await setFaults(app.baseUrl, { fault: 'DROP_NOTIFY', count: TRADES });
    const trades: Trade[] = [];
    for (let i = 0; i < TRADES; i++) {
      const a = await placeSandboxAttempt(app, db);
      const paid = (await sandboxPay(app.baseUrl, a.codeUrl!)) as { transaction_id: string };
      trades.push({ ...a, transactionId: paid.transaction_id });
    }
    await clearFaults(app.baseUrl);
    return trades;
  }

  it('every answered notify is applied, in-flight webhooks are recorded, nothing is logged as an error, exit 0', async () => {
    const app = await startApp({ engine, env: { RECONCILE_INTERVAL_MS: '20', RECONCILE_GRACE_MS: '600000', WEBHOOK_POLL_MS: '50', WEBHOOK_CONCURRENCY: '2' } });
    apps.push(app);
    const h = openDb(app.databaseUrl);
    handles.push(h);
    const trades = await seed(app, h.db);

    // A webhook endpoint (over the merchant API) and events for it, so deliveries are in flight.
    const login = await fetch(`${app.baseUrl}/api/merchant/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'sandbox' }) });
    const cookie = login.headers.getSetCookie().find((c) => c.startsWith('wxcheckout_session='))!.split(';')[0];
    const ep = await fetch(`${app.baseUrl}/api/merchant/webhook-endpoints`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ url: `${rx.base}/slow` }) });
    expect(ep.status).toBe(201);
    for (let i = 0; i < EVENTS; i++) await emitEvent(h.db, { type: 'checkout.session.paid', data: { object: { id: `cs_shutdown_${engine}_${i}` } } });
    const leased = async () => (await h.db.selectFrom('webhook_deliveries').select('id').where('claimed_by', 'is not', null).execute()).map((d) => d.id);
    await expect.poll(leased, { timeout: 10_000 }).not.toEqual([]);
    let inFlightAtSignal: string[] = [];

    // The burst; SIGTERM once a third of it was answered, while the rest keeps coming.
    const copies = trades.flatMap((t) => Array.from({ length: COPIES }, () => t)).sort(() => Math.random() - 0.5);
    let answered = 0;
    let signalled = false;
    const sent: Sent[] = [];
    let next = 0;
    const worker = async () => {
      while (next < copies.length) {
        const t = copies[next++];
        const body = signedPaymentNotify({ out_trade_no: t.outTradeNo, transaction_id: t.transactionId, total_fee: String(t.amountFen), trade_type: 'NATIVE' }, { apiKey: SANDBOX_API_KEY });
        const s: Sent = { outTradeNo: t.outTradeNo, nonce: nonceOf(body), answer: 'cut', afterSignal: false };
        try {
          const r = await fetch(`${app.baseUrl}/api/wechatpay/notify`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
          const text = await r.text();
          s.answer = r.status === 200 && text.includes('<return_code><![CDATA[SUCCESS]]></return_code>') ? 'SUCCESS' : 'FAIL';
        } catch {
          s.answer = 'cut';
        }
        s.afterSignal = signalled;
        sent.push(s);
        if (s.answer !== 'cut' && ++answered === Math.floor(copies.length / 3) && !signalled) {
          signalled = true;
          inFlightAtSignal = await leased();
          app.signal('SIGTERM');
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(signalled).toBe(true);
    const exit = await app.exited;
    const logs = app.logs();
    expect(exit, logs.slice(-3000)).toEqual({ code: 0, signal: null });

    // Requests in flight when the signal came were answered; nothing was answered FAIL.
    expect(sent.filter((s) => s.answer === 'FAIL')).toEqual([]);
    expect(sent.filter((s) => s.answer === 'SUCCESS' && s.afterSignal).length).toBeGreaterThan(0);

    // Every SUCCESS is in the database the process left behind: attempt and order paid, one event for that copy.
    const acked = sent.filter((s) => s.answer === 'SUCCESS');
    const paid = await h.db.selectFrom('payment_attempts as a').innerJoin('orders as o', 'o.id', 'a.order_id')
      .select(['a.out_trade_no', 'a.status as attempt', 'o.status as order']).where('a.out_trade_no', 'in', [...new Set(acked.map((s) => s.outTradeNo))]).execute();
    expect(paid.length).toBe(new Set(acked.map((s) => s.outTradeNo)).size);
    for (const p of paid) expect({ otn: p.out_trade_no, attempt: p.attempt, order: p.order }).toEqual({ otn: p.out_trade_no, attempt: 'paid', order: 'paid' });
    const events = await h.db.selectFrom('payment_events').select(['raw']).where('source', '=', 'notify').where('out_trade_no', 'in', trades.map((t) => t.outTradeNo)).execute();
    const byNonce = new Map<string, number>();
    for (const e of events) byNonce.set(nonceOf(e.raw ?? ''), (byNonce.get(nonceOf(e.raw ?? '')) ?? 0) + 1);
    for (const s of acked) expect(byNonce.get(s.nonce) ?? 0, s.nonce).toBe(1);

    // Webhook attempts in flight were finished and recorded: no lease left, each attempt has its row.
    const deliveries = await h.db.selectFrom('webhook_deliveries').selectAll().execute();
    // The seeded events, and each applied payment's checkout.session.paid (written with the payment).
    const paidOrders = await h.db.selectFrom('orders').select('id').where('id', 'in', trades.map((t) => t.orderId)).where('status', '=', 'paid').execute();
    expect(deliveries.length).toBe(EVENTS + paidOrders.length);
    expect(inFlightAtSignal.length, 'webhook attempts in flight when SIGTERM was sent').toBeGreaterThan(0);
    for (const id of inFlightAtSignal) expect(deliveries.find((d) => d.id === id)).toMatchObject({ status: 'delivered', attempts: 1 });
    for (const d of deliveries) {
      expect(d.locked_until, d.id).toBeNull();
      expect(d.claimed_by, d.id).toBeNull();
      expect(d.status).toBe(d.attempts > 0 ? 'delivered' : 'pending');
    }
    expect(deliveries.some((d) => d.status === 'delivered')).toBe(true);
    const attempts = await h.db.selectFrom('webhook_attempts').select(['delivery_id', 'status_code']).execute();
    expect(attempts.length).toBe(deliveries.reduce((n, d) => n + d.attempts, 0));
    expect(attempts.every((a) => a.status_code === 200)).toBe(true);

    // The log: no error, the shutdown started and ended cleanly; nothing but JSON from our side.
    const lines = jsonLines(logs);
    expect(lines.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
    expect(lines.filter((l) => l.event === 'shutdown').map((l) => l.phase)).toEqual(['start', 'done']);
    expect(logs).not.toMatch(/Error:|⨯/);
  });

  if (engine === 'sqlite') {
    it('a shutdown that cannot finish within SHUTDOWN_TIMEOUT_MS says what it waited for and exits 1', async () => {
      rx.answer('/stuck', async () => {
        await new Promise((r) => setTimeout(r, 8000));
        return 200;
      });
      const app = await startApp({ engine, env: { RECONCILE_INTERVAL_MS: '0', WEBHOOK_POLL_MS: '50', SHUTDOWN_TIMEOUT_MS: '1000' } });
      apps.push(app);
      const h = openDb(app.databaseUrl);
      handles.push(h);
      const login = await fetch(`${app.baseUrl}/api/merchant/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'sandbox' }) });
      const cookie = login.headers.getSetCookie().find((c) => c.startsWith('wxcheckout_session='))!.split(';')[0];
      const ep = await fetch(`${app.baseUrl}/api/merchant/webhook-endpoints`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ url: `${rx.base}/stuck` }) });
      expect(ep.status).toBe(201);
      await emitEvent(h.db, { type: 'checkout.session.paid', data: { object: { id: 'cs_stuck' } } });
      // Claimed (leased) by the deliverer: the attempt is in flight, the receiver holding it.
      await expect.poll(async () => (await h.db.selectFrom('webhook_deliveries').select('claimed_by').executeTakeFirst())?.claimed_by ?? null, { timeout: 10_000 }).not.toBeNull();

      app.signal('SIGTERM');
      const exit = await app.exited;
      expect(exit, app.logs()).toEqual({ code: 1, signal: null });
      const timeout = jsonLines(app.logs()).find((l) => l.event === 'shutdown' && l.phase === 'timeout');
      expect(timeout).toMatchObject({ level: 'error', waiting: ['workers'], duration_ms: expect.any(Number) });
      // The delivery keeps its lease: another instance (or this one restarted) retries it once the lease ends.
      const d = await h.db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
      expect(d).toMatchObject({ status: 'pending', attempts: 0, claimed_by: expect.any(String) });
    });
  }
});
