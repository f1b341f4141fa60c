import { type ExpressionBuilder, sql } from 'kysely';
import { type AppConfig, getConfig, type ReconcilerSettings } from '../../config';
import { type Database, getDb, getDbHandle, nowIso } from '../../db';
import { log } from '../../log';
import { metrics } from '../../metrics';
import { CLAIM_GAP_MS, CLAIM_SEND_MS, closeAttempt, closeOrderIfUnpaid, confirmAttempt } from '../payments';
import { QueryNotSentError } from '../gateway';
import { followRefund } from '../refunds';

/**
 * The reconciler: the notify is WeChat's word that money moved, but notifies get lost, so every
 * RECONCILE_INTERVAL_MS this asks WeChat about what is still in doubt:
 *  - open attempts past their payment window: closeorder (ORDERPAID means paid), then the order closed;
 *  - open attempts of an order that is no longer pending (paid another way, or closed): closeorder, so a
 *    buyer cannot pay the other QR/prompt later (if they already did, that is a duplicate payment);
 *  - attempts open longer than RECONCILE_GRACE_MS with no notify: orderquery (at most once a grace period
 *    per order, then for every quiet attempt of it), applied like a notify (not unanswered ones, which
 *    nobody can pay before a re-submission);
 *  - pending orders whose attempts all closed or failed (or that never had one), past their payment
 *    window: closed as expired;
 *  - refunds processing longer than the grace: refundquery (or resubmitted when WeChat never got them).
 * With PostgreSQL, each round runs only on the instance that takes a session advisory lock.
 */

/** Arbitrary but fixed: every instance of this app contends for the same PostgreSQL advisory lock. */
const LOCK_KEY = 727_300_611;
const key = Symbol.for('wechat-checkout.reconciler');

/** This process's reconciler: its timer, the round in progress, and what the last round did (for /api/ready). */
interface State {
  timer: NodeJS.Timeout;
  round?: Promise<void>;
  /** True while this process holds the advisory lock (PostgreSQL) or runs a round (SQLite). */
  holding: boolean;
  last?: { at: string; result: 'ran' | 'skipped' | 'failed' };
}
type Holder = { [key]?: State; [lastKey]?: State['last'] };
const lastKey = Symbol.for('wechat-checkout.reconciler-last');

/** Starts the periodic reconciler once per process; returns a stop function (stopReconciler). */
export function startReconciler(config: AppConfig, settings: ReconcilerSettings = config.reconcile): () => Promise<void> {
  const g = globalThis as Holder;
  if (g[key]) return stopReconciler;
  if (settings.intervalMs <= 0) return async () => {};
  const tick = () => {
    const st = g[key];
    if (!st || st.round) return;
    st.round = reconcileRound(config, settings)
      .then(() => undefined, (e) => {
        metrics().reconcilerSweeps.inc({ result: 'failed' });
        g[lastKey] = { at: nowIso(), result: 'failed' };
        log().error({ event: 'reconciler_sweep', outcome: 'failed', err: e }, 'reconciler round failed');
      })
      .finally(() => {
        st.round = undefined;
      });
  };
  const timer = setInterval(tick, settings.intervalMs);
  timer.unref();
  g[key] = { timer, holding: false };
  return stopReconciler;
}

/**
 * Stops this process's reconciler: no new round starts, and the promise settles once the round in
 * progress (if any) has finished and released the advisory lock. Used by the graceful shutdown.
 */
export async function stopReconciler(): Promise<void> {
  const g = globalThis as Holder;
  const st = g[key];
  if (!st) return;
  clearInterval(st.timer);
  delete g[key];
  await st.round;
}

/** The reconciler as /api/ready reports it. `lock`: who holds the PostgreSQL advisory lock right now (`not_used` on SQLite). */
export interface ReconcilerStatus {
  enabled: boolean;
  intervalMs: number;
  lock: 'not_used' | 'free' | 'held_here' | 'held_elsewhere';
  lastRound: { at: string; result: 'ran' | 'skipped' | 'failed' } | null;
}

/** Where the reconciler stands in this process, and on PostgreSQL who holds its lock (one query on pg_locks). */
export async function reconcilerStatus(config: AppConfig = getConfig()): Promise<ReconcilerStatus> {
  const g = globalThis as Holder;
  const st = g[key];
  const base = { enabled: Boolean(st), intervalMs: config.reconcile.intervalMs, lastRound: g[lastKey] ?? null };
  if (config.dbKind !== 'postgres') return { ...base, lock: 'not_used' };
  if (st?.holding) return { ...base, lock: 'held_here' };
  const { db } = await getDbHandle();
  // A one-argument bigint advisory lock shows in pg_locks as classid = high 32 bits, objid = low 32 bits, objsubid = 1.
  const r = await sql<{ n: number | string }>`select count(*) as n from pg_locks where locktype = 'advisory' and classid = 0 and objid = ${LOCK_KEY} and objsubid = 1 and granted and database = (select oid from pg_database where datname = current_database())`.execute(db);
  return { ...base, lock: Number(r.rows[0]?.n ?? 0) > 0 ? 'held_elsewhere' : 'free' };
}

function setHolding(holding: boolean): void {
  const st = (globalThis as Holder)[key];
  if (st) st.holding = holding;
}

/** One log line and the counters for a round that ran or was skipped. */
function noteRound(ran: boolean, started: number, done: string[]): void {
  const seconds = (performance.now() - started) / 1000;
  const result = ran ? 'ran' : 'skipped';
  (globalThis as Holder)[lastKey] = { at: nowIso(), result };
  metrics().reconcilerSweeps.inc({ result });
  if (!ran) {
    log().debug({ event: 'reconciler_sweep', outcome: 'skipped', duration_ms: Math.round(seconds * 1000) }, 'another instance holds the reconciler lock');
    return;
  }
  metrics().reconcilerDuration.observe(seconds);
  const findings: Record<string, number> = {};
  for (const d of done) {
    const kind = d.split(' ', 1)[0];
    findings[kind] = (findings[kind] ?? 0) + 1;
    metrics().reconcilerFindings.inc({ kind });
  }
  // Quiet rounds at debug: an idle shop would otherwise log a line every RECONCILE_INTERVAL_MS for nothing.
  const line = { event: 'reconciler_sweep', outcome: 'ran', findings, done: done.slice(0, 50), duration_ms: Math.round(seconds * 10_000) / 10 };
  if (done.length > 0) log().info(line, 'reconciler round');
  else log().debug(line, 'reconciler round');
}

/**
 * One sweep, run only where it may run. SQLite: one process owns the file, so always. PostgreSQL: only
 * on the instance that takes the session advisory lock, released in `finally` even when the sweep
 * throws (else no instance would ever sweep again). `ran: false` when another instance holds it.
 */
export async function reconcileRound(config: AppConfig, settings: ReconcilerSettings): Promise<{ ran: false } | { ran: true; done: string[] }> {
  const started = performance.now();
  if (config.dbKind !== 'postgres') {
    setHolding(true);
    try {
      const done = await reconcileOnce(settings);
      noteRound(true, started, done);
      return { ran: true, done };
    } finally {
      setHolding(false);
    }
  }
  const db = await getDb();
  const r = await db.connection().execute(async (conn) => {
    const r = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${LOCK_KEY}) as locked`.execute(conn);
    if (!r.rows[0]?.locked) return { ran: false as const };
    setHolding(true);
    try {
      return { ran: true as const, done: await reconcileOnce(settings) };
    } finally {
      setHolding(false);
      await sql`select pg_advisory_unlock(${LOCK_KEY})`.execute(conn);
    }
  });
  noteRound(r.ran, started, r.ran ? r.done : []);
  return r;
}

/** One round; each item's failure is logged and left for the next round. Returns what it did. */
export async function reconcileOnce(s: ReconcilerSettings): Promise<string[]> {
  const db = await getDb();
  const now = Date.now();
  const done: string[] = [];
  const each = async (what: string, fn: () => Promise<unknown>) => {
    try {
      const r = await fn();
      done.push(`${what}: ${typeof r === 'string' ? r : JSON.stringify(r)}`);
    } catch (e) {
      // A claimed query past its send window reached nobody: a busy server, not a fault.
      if (e instanceof QueryNotSentError) log().info({ event: 'reconciler_item', item: what, err: e }, 'orderquery not sent: past its claim\'s send window; left for the next round');
      else log().warn({ event: 'reconciler_item', item: what, err: e }, 'reconciler item failed; left for the next round');
    }
  };

  const expired = await db.selectFrom('payment_attempts').select(['out_trade_no', 'order_id'])
    .where('status', '=', 'open').where('expires_at', '<', nowIso(now))
    .orderBy('expires_at').limit(s.batch).execute();
  for (const a of expired) {
    await each(`expired ${a.out_trade_no}`, async () => {
      const r = await closeAttempt(a.out_trade_no);
      // The order ends only when its own window has (a checkout session may outlive one QR by days).
      if (r === 'closed') await closeOrderIfUnpaid(a.order_id, 'payment window expired', 'expired', true);
      return r;
    });
  }

  const strays = await db.selectFrom('payment_attempts as a').innerJoin('orders as o', 'o.id', 'a.order_id')
    .select(['a.out_trade_no']).where('a.status', '=', 'open').where('o.status', '!=', 'pending')
    .orderBy('a.created_at').limit(s.batch).execute();
  for (const a of strays) await each(`stray ${a.out_trade_no}`, () => closeAttempt(a.out_trade_no));

  // Quiet orders, not quiet attempts: the claim on orders.last_query_at is per order (shared with the
  // status pollers), so once an order is claimed every quiet attempt of it is asked about. Orders
  // claimed within the grace are filtered out before the batch limit, so they never take its slots.
  // An unanswered unifiedorder (open, no prepay_id, code_url or mweb_url: payments/attempts.ts) is skipped: nobody
  // holds its prepay, so nothing can be paid on it until a re-submission gives it one; its expiry closes
  // it at WeChat and closes the order, which an ORDERNOTEXIST from orderquery would leave pending.
  const graceCut = nowIso(now - s.graceMs);
  const quiet = await db.selectFrom('payment_attempts as a').innerJoin('orders as o', 'o.id', 'a.order_id')
    .select('a.order_id').select((eb) => eb.fn.min('a.created_at').as('since'))
    .where('a.status', '=', 'open').where('a.created_at', '<', graceCut).where('a.expires_at', '>=', nowIso(now))
    .where((eb) => eb.or([eb('a.prepay_id', 'is not', null), eb('a.code_url', 'is not', null), eb('a.mweb_url', 'is not', null)]))
    .where((eb) => eb.or([eb('o.last_query_at', 'is', null), eb('o.last_query_at', '<', graceCut)]))
    .groupBy('a.order_id').orderBy('since').limit(s.batch).execute();
  for (const o of quiet) {
    // Stamped with the time of this claim, not of the round's start (earlier orders' queries took time),
    // and at least the polls' gap after the last claim, whatever the grace: the claim is the polls' too.
    // Read before the claim: only the claim's own UPDATE stands between its timestamp and the send.
    const attempts = await db.selectFrom('payment_attempts').select('out_trade_no').where('order_id', '=', o.order_id)
      .where('status', '=', 'open').where('created_at', '<', graceCut).where('expires_at', '>=', nowIso(now))
      .where((eb) => eb.or([eb('prepay_id', 'is not', null), eb('code_url', 'is not', null), eb('mweb_url', 'is not', null)]))
      .orderBy('created_at').execute();
    const at = Date.now();
    const cut = nowIso(Math.min(now - s.graceMs, at - CLAIM_GAP_MS));
    const claim = await db.updateTable('orders').set({ last_query_at: nowIso(at) }).where('id', '=', o.order_id)
      .where((eb) => eb.or([eb('last_query_at', 'is', null), eb('last_query_at', '<', cut)]))
      .executeTakeFirst();
    if (Number(claim.numUpdatedRows) === 0) continue;
    // Sent once, no client retry, as the status poll's: this claim is the same orders.last_query_at a poll
    // takes, so a retry would be a second orderquery inside it (or, after a 5 s timeout, one overlapping the
    // next poll's claim), and three timeouts per attempt would hold up the rest of the round. A failure is
    // reported in the round; the next poll or sweep asks again.
    // The order's queries go out together, within CLAIM_SEND_MS of the claim or not at all (a query
    // that could not is reported, and the next round or poll asks).
    await Promise.all(attempts.map((a) => each(`query ${a.out_trade_no}`, () => confirmAttempt(a.out_trade_no, 'query', { once: true, sendBy: at + CLAIM_SEND_MS }))));
  }

  // Pending orders with nothing left to pay: every attempt closed or failed at WeChat (CLOSED, REVOKED,
  // ORDERNOTEXIST, PAYERROR), or none ever made (an API session nobody opened), and the payment window
  // over (orders.expires_at; before migration 0006: creation + ORDER_TTL_MINUTES + the grace), so no
  // buyer can resume them. Closed here as `expired`, or they would stay pending for ever. No claim can
  // be in flight past expires_at: a claim needs MIN_ATTEMPT_WINDOW_MS of the window left.
  const nothingPayable = ({ not, exists, selectFrom }: ExpressionBuilder<Database, 'orders'>) => not(exists(
    selectFrom('payment_attempts').select('out_trade_no').whereRef('payment_attempts.order_id', '=', 'orders.id').where('status', 'in', ['open', 'paid']),
  ));
  const legacyCut = nowIso(now - getConfig().orderTtlMinutes * 60_000 - s.graceMs);
  const [ended, legacy] = await Promise.all([
    db.selectFrom('orders').select('id').where('status', '=', 'pending').where('expires_at', '<', nowIso(now))
      .where(nothingPayable).orderBy('expires_at').limit(s.batch).execute(),
    db.selectFrom('orders').select('id').where('status', '=', 'pending').where('expires_at', 'is', null).where('created_at', '<', legacyCut)
      .where(nothingPayable).orderBy('created_at').limit(s.batch).execute(),
  ]);
  for (const o of [...ended, ...legacy]) {
    await each(`orphan ${o.id}`, () => closeOrderIfUnpaid(o.id, 'nothing left to pay: every attempt closed or failed and the payment window is over', 'expired'));
  }

  const refunds = await db.selectFrom('refunds').selectAll()
    .where('status', '=', 'processing').where('created_at', '<', nowIso(now - s.graceMs))
    .orderBy('created_at').limit(s.batch).execute();
  for (const r of refunds) await each(`refund ${r.out_refund_no}`, () => followRefund(r));
  return done;
}
