import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import { hostname } from 'node:os';
import { Webhook } from 'standardwebhooks';
import { type AppConfig, getConfig } from '../../config';
import { getDbHandle, nowIso } from '../../db';
import { log } from '../../log';
import { metrics } from '../../metrics';
import type { WebhookDeliveriesTable } from '../../db/schema';
import { newId, writeTransaction } from '../kernel';
import { postWebhook, type SendResult } from './send';
import { DELIVERY_TIMEOUT_MS, RETRY_SCHEDULE_S } from './types';
import { createWake, registerWakeTarget, type Wake } from './wake';
import type { Resolver } from './url-guard';

/*
 * The deliverer: sends due deliveries from the outbox, records every attempt and reschedules failures
 * on WeChat's notify schedule divided by WEBHOOK_TIME_SCALE. All state is in the database, so a restart
 * resumes where it was, and any number of instances on one PostgreSQL share the work:
 *   - a delivery is CLAIMED by one atomic conditional update (status pending, due, not leased or lease
 *     expired -> leased to this instance for LEASE_MS); on PostgreSQL the candidate rows are picked
 *     with FOR UPDATE SKIP LOCKED, so concurrent claimers take different rows instead of queueing.
 *     Two instances never send the same delivery at the same moment;
 *   - the lease outlives the 10 s timeout by far, and covers an instance that dies mid-attempt: after
 *     it, the delivery is due again for anyone (at least once: the receiver may then see it twice, with
 *     the same webhook-id, which is what receivers deduplicate on).
 * In this process emitEvent and Resend wake it at once (wake.ts); otherwise it looks every WEBHOOK_POLL_MS
 * and at the next retry it knows of.
 */

/** How long a claim holds: the attempt's timeout plus room for a slow database write. */
export const LEASE_MS = DELIVERY_TIMEOUT_MS + 20_000;
/** After an emit, how often to look for the event's rows until its transaction commits (or is given up). */
const EXPECT_POLL_MS = 20;
/** An emitted event not visible after this long rolled back (or waits for the next poll). */
const EXPECT_MAX_MS = 10_000;

/** A claimed delivery. */
type Claimed = Pick<Selectable<WebhookDeliveriesTable>, 'id' | 'event_id' | 'endpoint_id' | 'attempts'>;

interface State {
  me: string;
  config: AppConfig;
  wake?: Wake;
  running: boolean;
  again: boolean;
  inFlight: Set<string>;
  /** The attempts in flight, so a shutdown can wait for each to be sent and recorded. */
  attempts: Set<Promise<void>>;
  /** The pass in progress, so a shutdown can wait for the claims it is making. */
  passing?: Promise<void>;
  expected: Map<string, number>;
  resolve?: Resolver;
}

const key = Symbol.for('wechat-checkout.webhook-deliverer');
type Holder = { [key]?: State };

/** This process's name on its claims and attempts: host, pid and a random tail (pids repeat across restarts). */
export function instanceName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * Starts this process's deliverer once (lib/startup.ts); WEBHOOK_POLL_MS=0 leaves it off. Returns a
 * stop function. `resolve` replaces DNS for the SSRF guard (tests).
 */
export function startWebhookDeliverer(config: AppConfig = getConfig(), opts: { resolve?: Resolver } = {}): () => void {
  const g = globalThis as Holder;
  if (g[key]) return stopWebhookDeliverer;
  if (config.webhooks.pollMs <= 0) return () => {};
  const st: State = { me: instanceName(), config, running: false, again: false, inFlight: new Set(), attempts: new Set(), expected: new Map(), resolve: opts.resolve };
  g[key] = st;
  registerWakeTarget({
    expect: (id) => {
      st.expected.set(id, Date.now());
      schedule(st, 0);
    },
    kick: () => schedule(st, 0),
  });
  schedule(st, 0);
  return stopWebhookDeliverer;
}

/** Stops this process's deliverer (attempts in flight finish and are recorded). */
export function stopWebhookDeliverer(): void {
  const g = globalThis as Holder;
  g[key]?.wake?.cancel();
  delete g[key];
  registerWakeTarget(undefined);
}

/**
 * Stops the deliverer and settles once every attempt it had in flight has been sent and recorded
 * (the graceful shutdown: a delivery cut off here would wait out its lease before anyone retried it).
 */
export async function drainWebhookDeliverer(): Promise<void> {
  const st = (globalThis as Holder)[key];
  stopWebhookDeliverer();
  if (!st) return;
  await st.passing;
  while (st.attempts.size > 0) await Promise.allSettled([...st.attempts]);
}

function schedule(st: State, ms: number): void {
  if ((globalThis as Holder)[key] !== st) return;
  st.wake ??= createWake(() => {
    const p = pass(st);
    st.passing = p;
    void p.finally(() => {
      if (st.passing === p) st.passing = undefined;
    });
  }, st.config.webhooks.pollMs);
  st.wake.in(ms);
}

async function pass(st: State): Promise<void> {
  if (st.running) {
    st.again = true;
    return;
  }
  st.running = true;
  let wait = st.config.webhooks.pollMs;
  try {
    const { db, kind } = await getDbHandle();
    const now = Date.now();
    if (st.expected.size > 0) {
      // Looked for BEFORE claiming: an event seen here has its deliveries visible to the claim below.
      const seen = await db.selectFrom('webhook_events').select('id').where('id', 'in', [...st.expected.keys()]).execute();
      for (const s of seen) st.expected.delete(s.id);
      for (const [id, at] of st.expected) if (now - at > EXPECT_MAX_MS) st.expected.delete(id);
    }
    const room = st.config.webhooks.concurrency - st.inFlight.size;
    if (room > 0) {
      for (const d of await claimDue(st.me, room, kind, now)) {
        st.inFlight.add(d.id);
        const attempt: Promise<void> = attemptDelivery(st, d)
          .catch((e) => log().error({ event: 'webhook_delivery', delivery_id: d.id, event_id: d.event_id, err: e }, 'webhook attempt not recorded'))
          .finally(() => {
            st.inFlight.delete(d.id);
            st.attempts.delete(attempt);
            schedule(st, 0);
          });
        st.attempts.add(attempt);
      }
    }
    const next = await db.selectFrom('webhook_deliveries').select('next_at').where('status', '=', 'pending').where('next_at', '>', nowIso(now))
      .orderBy('next_at').limit(1).executeTakeFirst();
    if (next?.next_at) wait = Math.min(wait, Date.parse(next.next_at) - Date.now());
    if (st.expected.size > 0) wait = Math.min(wait, EXPECT_POLL_MS);
  } catch (e) {
    log().error({ event: 'webhook_deliverer', err: e }, 'deliverer pass failed');
    wait = Math.min(wait, 1000);
  } finally {
    st.running = false;
  }
  if (st.again) {
    st.again = false;
    wait = 0;
  }
  schedule(st, wait);
}

/**
 * Claims up to `limit` due deliveries for `me` in one statement. The outer WHERE repeats the
 * conditions so that, on PostgreSQL at READ COMMITTED, a row another instance claimed between the
 * subquery and the update is re-checked against its new version and skipped.
 */
export async function claimDue(me: string, limit: number, kind: 'sqlite' | 'postgres', now: number = Date.now()): Promise<Claimed[]> {
  const { db } = await getDbHandle();
  const at = nowIso(now);
  let candidates = db.selectFrom('webhook_deliveries').select('id')
    .where('status', '=', 'pending').where('next_at', '<=', at)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', at)]))
    .orderBy('next_at').limit(limit);
  // Looked at before claiming: an idle pass (the usual one) then only reads. On SQLite an UPDATE takes
  // the database's one write lock even when it matches nothing, so an idle poll would queue behind every
  // other writer, and while another process holds the lock it would block this process's event loop for
  // the whole busy timeout on every pass (test/integration/notify-outage.test.ts).
  if (!(await candidates.executeTakeFirst())) return [];
  if (kind === 'postgres') candidates = candidates.forUpdate().skipLocked();
  return db.updateTable('webhook_deliveries')
    .set({ locked_until: nowIso(now + LEASE_MS), claimed_by: me, updated_at: at })
    .where('id', 'in', candidates)
    .where('status', '=', 'pending').where('next_at', '<=', at)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', at)]))
    .returning(['id', 'event_id', 'endpoint_id', 'attempts'])
    .execute();
}

/** The Standard Webhooks headers for one attempt: webhook-id (the event id), webhook-timestamp, webhook-signature. */
export function signedHeaders(secret: string, eventId: string, payload: string, at: Date = new Date()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'wechat-h5-checkout-webhooks/1',
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(eventId, at, payload),
  };
}

/** One attempt of a claimed delivery: sign, POST, record the attempt and the delivery's next state. */
async function attemptDelivery(st: State, d: Claimed): Promise<void> {
  const { db } = await getDbHandle();
  const ev = await db.selectFrom('webhook_events').select(['id', 'payload', 'order_id']).where('id', '=', d.event_id).executeTakeFirstOrThrow();
  const ep = await db.selectFrom('webhook_endpoints').select(['url', 'secret', 'disabled_at']).where('id', '=', d.endpoint_id).executeTakeFirstOrThrow();
  if (ep.disabled_at) {
    await db.updateTable('webhook_deliveries').set({ status: 'failed', next_at: null, locked_until: null, claimed_by: null, last_error: 'endpoint deleted', updated_at: nowIso() })
      .where('id', '=', d.id).where('claimed_by', '=', st.me).execute();
    return;
  }
  const startedAt = Date.now();
  const res = await postWebhook(ep.url, ev.payload, signedHeaders(ep.secret, ev.id, ev.payload), { guard: st.config.mode === 'live', resolve: st.resolve });
  const status = await recordAttempt(st, d, startedAt, res);
  noteDelivery(d, ev.order_id, status, res);
}

/** One log line and the counters per delivery attempt: delivered, retry (pending again) or failed (out of retries). */
function noteDelivery(d: Claimed, orderId: string | null, status: 'delivered' | 'pending' | 'failed', res: SendResult): void {
  const result = status === 'pending' ? 'retry' : status;
  metrics().webhookDeliveries.inc({ result });
  metrics().webhookDuration.observe(res.durationMs / 1000);
  // The endpoint's URL stays out: it may carry a token of the merchant's in its query.
  const line = {
    event: 'webhook_delivery', delivery_id: d.id, event_id: d.event_id, endpoint_id: d.endpoint_id, order_id: orderId, attempt: d.attempts + 1,
    status_code: res.statusCode, error: res.error ?? undefined, outcome: result, duration_ms: res.durationMs,
  };
  if (result === 'delivered') log().info(line, 'webhook delivered');
  else log().warn(line, result === 'retry' ? 'webhook not delivered; retrying later' : 'webhook not delivered; out of retries');
}

async function recordAttempt(st: State, d: Claimed, startedAt: number, res: SendResult): Promise<'delivered' | 'pending' | 'failed'> {
  const n = d.attempts + 1;
  const ok = res.statusCode !== null && res.statusCode >= 200 && res.statusCode < 300;
  const delayS = RETRY_SCHEDULE_S[n - 1];
  const now = Date.now();
  const status = ok ? 'delivered' : delayS === undefined ? 'failed' : 'pending';
  await writeTransaction(async (trx) => {
    await trx.insertInto('webhook_attempts').values({
      id: newId('wha'), delivery_id: d.id, attempt_no: n, at: nowIso(startedAt), status_code: res.statusCode, error: res.error,
      response_head: res.head, duration_ms: res.durationMs, instance: st.me,
    }).execute();
    // Only while the claim is still ours: past the lease another instance may own the row, and its result stands.
    await trx.updateTable('webhook_deliveries').set({
      status, attempts: n,
      next_at: status === 'pending' ? nowIso(now + (delayS! * 1000) / st.config.webhooks.timeScale) : null,
      locked_until: null, claimed_by: null, last_status: res.statusCode, last_error: res.error, last_response_head: res.head, updated_at: nowIso(now),
    }).where('id', '=', d.id).where('claimed_by', '=', st.me).execute();
  });
  return status;
}
