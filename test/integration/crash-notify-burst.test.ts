import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_API_KEY } from '@/lib/config';
import { type DbHandle, openDb } from '@/lib/db';
import type { Database } from '@/lib/db/schema';
import { ENGINES } from '../helpers/db';
import { placeSandboxAttempt, sandboxPay, type TestAttempt, waitFor } from '../helpers/orders';
import { clearFaults, sandboxOrder, setFaults } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';
import { signedPaymentNotify } from '../helpers/wechatpay-fixtures';

/**
 * SIGKILL in the middle of a burst of payment notifies. Every trade is placed and paid at the sandbox
 * (its own notifies dropped), and the test plays WeChat's notifier: several copies of each notify, each
 * copy with its own nonce_str so the event it left can be found by its raw payload. Some orders were
 * paid twice (two attempts, both paid): their second payment is refunded after the answer, in
 * `after()`, and the kill cuts that off too (the sandbox holds those refund calls until then).
 *
 * What must hold once WeChat has retried everything that did not get SUCCESS:
 *  - a SUCCESS answer is durable: it is already in the database the killed process left behind;
 *  - every attempt paid once, every order paid once (one `applied` event per attempt, whatever source);
 *  - every notify copy answered SUCCESS left exactly one event; a copy cut off before its answer left at
 *    most one (WeChat retries it);
 *  - each duplicate payment refunded exactly once, at the sandbox too, and nothing else refunded.
 */

const SINGLES = 20;
const DOUBLES = 4;
const COPIES = 3;
const CONCURRENCY = 12;
const RESTART_ENV = { RECONCILE_INTERVAL_MS: '200', RECONCILE_GRACE_MS: '1000' };
const QUIET_ENV = { RECONCILE_INTERVAL_MS: '0' };

interface Trade extends TestAttempt {
  transactionId: string;
}

interface Sent {
  outTradeNo: string;
  nonce: string;
  /** The instance it went to. */
  to: string;
  /** SUCCESS or FAIL when an HTTP answer came back, `cut` when the connection died or was refused. */
  answer: 'SUCCESS' | 'FAIL' | 'cut';
  /** After the kill (a retry or a repeat). */
  late: boolean;
}

const nonceOf = (xml: string) => /<nonce_str>(?:<!\[CDATA\[)?([^<\]]+)/.exec(xml)![1];

/** One notify copy over HTTP; never throws. */
async function post(app: AppServer, t: Trade, late: boolean): Promise<Sent> {
  const body = signedPaymentNotify({ out_trade_no: t.outTradeNo, transaction_id: t.transactionId, total_fee: String(t.amountFen), trade_type: 'NATIVE' }, { apiKey: SANDBOX_API_KEY });
  const sent: Sent = { outTradeNo: t.outTradeNo, nonce: nonceOf(body), to: app.baseUrl, answer: 'cut', late };
  try {
    const r = await fetch(`${app.baseUrl}/api/wechatpay/notify`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
    const text = await r.text();
    sent.answer = r.status === 200 && text.includes('<return_code><![CDATA[SUCCESS]]></return_code>') ? 'SUCCESS' : 'FAIL';
  } catch {
    sent.answer = 'cut';
  }
  return sent;
}

/** Runs `jobs` with at most `limit` in flight, in order of the array. */
async function pool<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return out;
}

function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

describe.each(ENGINES)('SIGKILL during a notify burst, on %s', (engine) => {
  const apps: AppServer[] = [];
  const handles: DbHandle[] = [];
  beforeAll(() => {
    // This suite starts its own instances per test; nothing of another suite's in-process instance may leak into them.
    for (const k of ['WECHAT_MODE', 'DATABASE_URL', 'PUBLIC_BASE_URL', 'PORT', 'SESSION_SECRET', 'SANDBOX_MCH_BASE_URL', 'ORDER_TTL_MINUTES']) delete process.env[k];
  });
  afterEach(async () => {
    for (const h of handles.splice(0)) await h.close();
    for (const a of apps.splice(0)) await a.stop();
  });
  afterAll(async () => {
    for (const a of apps.splice(0)) await a.stop();
  });

  const start = async (opts: Parameters<typeof startApp>[0]) => {
    const a = await startApp(opts);
    apps.push(a);
    return a;
  };

  /** SINGLES orders with one paid attempt, DOUBLES orders with two paid attempts: all paid at the sandbox, no notify sent. */
  async function seed(app: AppServer, db: Kysely<Database>): Promise<{ trades: Trade[]; doubles: Array<[Trade, Trade]> }> {
    await setFaults(app.baseUrl, { fault: 'DROP_NOTIFY', count: SINGLES + 2 * DOUBLES });
    const paid = async (a: TestAttempt): Promise<Trade> => {
      const r = (await sandboxPay(app.baseUrl, a.codeUrl!)) as { transaction_id: string };
      return { ...a, transactionId: r.transaction_id };
    };
    const trades: Trade[] = [];
    for (let i = 0; i < SINGLES; i++) trades.push(await paid(await placeSandboxAttempt(app, db)));
    const doubles: Array<[Trade, Trade]> = [];
    for (let i = 0; i < DOUBLES; i++) {
      const first = await placeSandboxAttempt(app, db, { amountFen: 4500, sku: 'coffee-beans' });
      const second = await placeSandboxAttempt(app, db, { orderId: first.orderId });
      const pair: [Trade, Trade] = [await paid(first), await paid(second)];
      doubles.push(pair);
      trades.push(...pair);
    }
    await clearFaults(app.baseUrl);
    // Nothing has told the app yet.
    const paidRows = await db.selectFrom('payment_attempts').select('out_trade_no').where('status', '=', 'paid').execute();
    expect(paidRows).toEqual([]);
    return { trades, doubles };
  }

  /**
   * The burst, COPIES copies of every notify, CONCURRENCY in flight, spread over `targets`. First the
   * doubly paid orders' notifies, all answered: on `victim` each duplicate payment's refund is now stuck
   * in `after()` (its refund call delayed at the sandbox past the client's three tries). Then the other
   * notifies, shuffled, and `victim` is SIGKILLed once it has answered `killAfter` of them.
   */
  async function burst(trades: Trade[], doubles: Array<[Trade, Trade]>, targets: AppServer[], victim: AppServer, killAfter: number): Promise<Sent[]> {
    await setFaults(victim.baseUrl, { api: 'refund', fault: 'DELAY', count: 3 * DOUBLES, delayMs: 60_000 });
    const copiesOf = (ts: Trade[]) => shuffle(ts.flatMap((t) => Array.from({ length: COPIES }, () => t)));
    const first = await pool(copiesOf(doubles.flat()).map((t, i) => () => post(targets[i % targets.length], t, false)), CONCURRENCY);
    expect(first.filter((s) => s.answer !== 'SUCCESS')).toEqual([]);
    const inDoubles = new Set(doubles.flat().map((t) => t.outTradeNo));
    let answeredByVictim = 0;
    let killing: Promise<void> | undefined;
    const rest = await pool(copiesOf(trades.filter((t) => !inDoubles.has(t.outTradeNo))).map((t, i) => async () => {
      const s = await post(targets[i % targets.length], t, false);
      if (s.to === victim.baseUrl && s.answer !== 'cut' && ++answeredByVictim === killAfter) killing = victim.kill();
      return s;
    }), CONCURRENCY);
    expect(killing, 'the victim was killed during the burst').toBeDefined();
    await killing;
    return [...first, ...rest];
  }

  /** WeChat's retries: every trade with no SUCCESS yet is sent again until it gets one, plus one repeat of each. */
  async function retryAll(trades: Trade[], sent: Sent[], targets: AppServer[]): Promise<Sent[]> {
    const late: Sent[] = [];
    const ok = (otn: string) => [...sent, ...late].some((s) => s.outTradeNo === otn && s.answer === 'SUCCESS');
    late.push(...(await pool(trades.map((t, i) => () => post(targets[i % targets.length], t, true)), CONCURRENCY)));
    await waitFor(async () => {
      const missing = trades.filter((t) => !ok(t.outTradeNo));
      if (missing.length === 0) return true;
      late.push(...(await pool(missing.map((t, i) => () => post(targets[i % targets.length], t, true)), CONCURRENCY)));
      return false;
    }, 30_000, 'every notify answered SUCCESS after the restart');
    // A restarted or surviving instance answers: an HTTP answer after the kill is never FAIL.
    expect(late.filter((s) => s.answer === 'FAIL')).toEqual([]);
    return late;
  }

  /** Right after the kill, before anything restarts: every SUCCESS answer is already in the database. */
  async function expectSuccessDurable(db: Kysely<Database>, trades: Trade[], sent: Sent[]) {
    const acked = new Set(sent.filter((s) => s.answer === 'SUCCESS').map((s) => s.outTradeNo));
    expect(acked.size).toBeGreaterThan(0);
    const rows = await db.selectFrom('payment_attempts as a').innerJoin('orders as o', 'o.id', 'a.order_id')
      .select(['a.out_trade_no', 'a.status as attempt', 'o.status as order'])
      .where('a.out_trade_no', 'in', [...acked]).execute();
    expect(rows).toHaveLength(acked.size);
    for (const r of rows) expect({ otn: r.out_trade_no, attempt: r.attempt, order: r.order }).toEqual({ otn: r.out_trade_no, attempt: 'paid', order: 'paid' });
    const byNonce = await notifyEventsByNonce(db, trades);
    for (const s of sent.filter((x) => x.answer === 'SUCCESS')) expect(byNonce.get(s.nonce) ?? 0).toBe(1);
  }

  async function notifyEventsByNonce(db: Kysely<Database>, trades: Trade[]): Promise<Map<string, number>> {
    const evs = await db.selectFrom('payment_events').select(['raw', 'outcome'])
      .where('source', '=', 'notify').where('out_trade_no', 'in', trades.map((t) => t.outTradeNo)).execute();
    const m = new Map<string, number>();
    for (const e of evs) {
      expect(['applied', 'duplicate']).toContain(e.outcome);
      const n = nonceOf(e.raw ?? '');
      m.set(n, (m.get(n) ?? 0) + 1);
    }
    return m;
  }

  /** Everything settled: paid once, one event per answered copy, each duplicate refunded exactly once. */
  async function expectSettled(app: AppServer, db: Kysely<Database>, trades: Trade[], doubles: Array<[Trade, Trade]>, sent: Sent[]) {
    const ids = trades.map((t) => t.outTradeNo);
    const orderIds = [...new Set(trades.map((t) => t.orderId))];
    // The duplicate payments' refunds, possibly cut off in after(), are resubmitted by the restarted reconciler.
    await waitFor(async () => {
      const refunds = await db.selectFrom('refunds').select(['status']).where('order_id', 'in', orderIds).execute();
      return refunds.length >= DOUBLES && refunds.every((r) => r.status === 'succeeded');
    }, 30_000, 'the duplicate payments refunded');

    const attempts = await db.selectFrom('payment_attempts').selectAll().where('out_trade_no', 'in', ids).execute();
    for (const t of trades) {
      expect(attempts.find((a) => a.out_trade_no === t.outTradeNo)).toMatchObject({ status: 'paid', transaction_id: t.transactionId });
    }
    const orders = await db.selectFrom('orders').selectAll().where('id', 'in', orderIds).execute();
    expect(orders).toHaveLength(SINGLES + DOUBLES);
    for (const o of orders) {
      const mine = trades.filter((t) => t.orderId === o.id);
      expect(o.status).toBe('paid');
      expect(mine.map((t) => t.transactionId)).toContain(o.transaction_id);
      expect(o.duplicate_paid).toBe(mine.length > 1 ? 1 : 0);
      expect(o.refunded_fen).toBe(0);
    }

    // One `applied` event per attempt, from whichever source got there first; one `paid:` per order.
    const applied = await db.selectFrom('payment_events').select(['out_trade_no', 'order_id', 'detail'])
      .where('out_trade_no', 'in', ids).where('outcome', '=', 'applied')
      .where((eb) => eb.or([eb('detail', 'like', 'paid:%'), eb('detail', 'like', 'DUPLICATE_PAYMENT%')])).execute();
    for (const t of trades) expect(applied.filter((e) => e.out_trade_no === t.outTradeNo), t.outTradeNo).toHaveLength(1);
    for (const id of orderIds) expect(applied.filter((e) => e.order_id === id && e.detail.startsWith('paid:'))).toHaveLength(1);
    const rejected = await db.selectFrom('payment_events').select(['detail']).where('out_trade_no', 'in', ids).where('outcome', '=', 'rejected').execute();
    expect(rejected).toEqual([]);

    // Every copy answered SUCCESS left exactly one event; a copy cut off at most one; no event without a copy.
    const byNonce = await notifyEventsByNonce(db, trades);
    const nonces = new Set(sent.map((s) => s.nonce));
    for (const s of sent) {
      if (s.answer === 'SUCCESS') expect(byNonce.get(s.nonce) ?? 0, `answered copy ${s.nonce}`).toBe(1);
      else expect(byNonce.get(s.nonce) ?? 0, `cut copy ${s.nonce}`).toBeLessThanOrEqual(1);
    }
    for (const n of byNonce.keys()) expect(nonces.has(n), `event for unsent copy ${n}`).toBe(true);

    // Refunds: exactly one per duplicate payment, of the attempt that lost, and at the sandbox exactly once.
    const refunds = await db.selectFrom('refunds').selectAll().where('order_id', 'in', orderIds).execute();
    expect(refunds).toHaveLength(DOUBLES);
    for (const [a, b] of doubles) {
      const order = orders.find((o) => o.id === a.orderId)!;
      const loser = order.transaction_id === a.transactionId ? b : a;
      const winner = loser === a ? b : a;
      const mine = refunds.filter((r) => r.order_id === a.orderId);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ out_trade_no: loser.outTradeNo, amount_fen: loser.amountFen, origin: 'duplicate', status: 'succeeded' });
      const atWechat = await sandboxOrder(app.baseUrl, loser.outTradeNo);
      expect(atWechat?.refunds.map((r: { out_refund_no: string }) => r.out_refund_no)).toEqual([mine[0].out_refund_no]);
      expect(Number(atWechat?.refunded_fee)).toBe(loser.amountFen);
      const kept = await sandboxOrder(app.baseUrl, winner.outTradeNo);
      expect(kept?.refunds).toEqual([]);
      expect(kept?.state).toBe('SUCCESS');
    }
    // Nothing else was refunded at WeChat.
    const sbx = await (db as unknown as Kysely<{ sandbox_refunds: { out_trade_no: string } }>).selectFrom('sandbox_refunds').select('out_trade_no')
      .where('out_trade_no', 'in', ids).execute();
    expect(sbx.map((r) => r.out_trade_no).sort()).toEqual(refunds.map((r) => r.out_trade_no).sort());
  }

  it('one instance killed mid-burst, restarted on the same database and port: nothing lost, nothing doubled', async () => {
    const app = await start({ engine, env: QUIET_ENV });
    const h = openDb(app.databaseUrl);
    handles.push(h);
    const { trades, doubles } = await seed(app, h.db);

    const sent = await burst(trades, doubles, [app], app, Math.floor((SINGLES * COPIES) / 3));
    // The kill cut the burst: some copies got SUCCESS, some never got an answer.
    expect(sent.some((s) => s.answer === 'SUCCESS')).toBe(true);
    expect(sent.some((s) => s.answer === 'cut')).toBe(true);
    expect(sent.filter((s) => s.answer === 'FAIL')).toEqual([]);
    await expectSuccessDurable(h.db, trades, sent);
    // Each duplicate payment's refund was reserved with the payment, but the kill cut off its submission.
    const cut = await h.db.selectFrom('refunds').select(['status', 'refund_id', 'origin']).where('order_id', 'in', doubles.map(([a]) => a.orderId)).execute();
    expect(cut).toEqual(doubles.map(() => ({ status: 'processing', refund_id: null, origin: 'duplicate' })));

    const again = await start({ databaseUrl: app.databaseUrl, port: app.port, env: RESTART_ENV });
    const late = await retryAll(trades, sent, [again]);
    await expectSettled(again, h.db, trades, doubles, [...sent, ...late]);
  });

  if (engine === 'postgres') {
    it('two instances, one killed mid-burst while the other keeps serving; the killed one comes back', async () => {
      const a = await start({ engine, env: QUIET_ENV });
      const b = await start({ databaseUrl: a.databaseUrl, env: QUIET_ENV });
      const h = openDb(a.databaseUrl);
      handles.push(h);
      const { trades, doubles } = await seed(a, h.db);

      const sent = await burst(trades, doubles, [a, b], a, Math.floor((SINGLES * COPIES) / 6));
      const toA = sent.filter((s) => s.to === a.baseUrl);
      expect(toA.some((s) => s.answer === 'SUCCESS')).toBe(true);
      expect(toA.some((s) => s.answer === 'cut')).toBe(true);
      // The survivor answered every copy it was sent, before, during and after the kill.
      expect(sent.filter((s) => s.to === b.baseUrl).map((s) => s.answer)).toEqual(sent.filter((s) => s.to === b.baseUrl).map(() => 'SUCCESS'));
      await expectSuccessDurable(h.db, trades, sent);

      // WeChat's retries land on the survivor while the killed instance restarts; then on both.
      const restarting = start({ databaseUrl: a.databaseUrl, port: a.port, env: RESTART_ENV });
      const late = await retryAll(trades, sent, [b]);
      const a2 = await restarting;
      late.push(...(await pool(trades.map((t, i) => () => post(i % 2 ? a2 : b, t, true)), CONCURRENCY)));
      expect(late.filter((s) => s.answer !== 'SUCCESS')).toEqual([]);
      await expectSettled(b, h.db, trades, doubles, [...sent, ...late]);
    });
  }
});
