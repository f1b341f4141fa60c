import type { AppConfig } from '../config';
import { notifyAcknowledged } from './notify-ack';
import { type SandboxDb, sandboxDb } from './db';
import { nowIso } from '../db';
import { log } from '../log';
import { registerKick, RETRY_SCHEDULE_S } from './deliveries';
import { newRowId } from './ids';
import { refundNotifyXml } from './notify-body';
import { settleDueRefunds } from './refund';
import type { SandboxDeliveriesTable } from './schema';
import { createWake, type Wake } from './wake';
import { findMerchant } from './merchants';
import { envV3Identity, v3IdentityFor, v3IdentityOf, wechatpayHeaders } from './v3/identity';
import { isV3Body, v3RefundNotifyBody } from './v3/notify-body';

const REPLY_CAP = 2000;
/** WeChat expects the merchant to answer within 5 seconds. */
const TIMEOUT_MS = 5000;
/** Even with nothing due, look again this often (a row written by another process, a clock jump). */
const IDLE_MS = 30_000;

type State = { wake?: Wake; running: boolean; again: boolean; inFlight: Set<string>; sends: Set<Promise<void>>; passing?: Promise<void>; stopped?: boolean; config: AppConfig };
const key = Symbol.for('wechat-checkout.sandbox-notifier');

/**
 * The notifier: POSTs queued notifies to the merchant's notify_url, retrying on WeChat's schedule
 * divided by SANDBOX_TIME_SCALE, logging every attempt. Everything lives in sandbox_deliveries, so a
 * restart resumes pending deliveries where they were. One per process (started from lib/startup.ts).
 */
export function startSandboxNotifier(config: AppConfig): void {
  const g = globalThis as { [key]?: State };
  if (g[key]) return;
  const st: State = { running: false, again: false, inFlight: new Set(), sends: new Set(), config };
  g[key] = st;
  registerKick(() => schedule(st, 0));
  schedule(st, 0);
}

/**
 * Stops the notifier (graceful shutdown): no new delivery starts, and the promise settles once the
 * ones in flight have been sent and logged (a restart resumes the rest from sandbox_deliveries).
 */
export async function stopSandboxNotifier(): Promise<void> {
  const g = globalThis as { [key]?: State };
  const st = g[key];
  if (!st) return;
  st.stopped = true;
  st.wake?.cancel();
  delete g[key];
  registerKick(() => {});
  await st.passing;
  while (st.sends.size > 0) await Promise.allSettled([...st.sends]);
}

function schedule(st: State, ms: number): void {
  if (st.stopped) return;
  st.wake ??= createWake(() => {
    const p = pass(st);
    st.passing = p;
    void p.finally(() => {
      if (st.passing === p) st.passing = undefined;
    });
  }, IDLE_MS);
  st.wake.in(ms);
}

async function pass(st: State): Promise<void> {
  if (st.stopped) return;
  if (st.running) {
    st.again = true;
    return;
  }
  st.running = true;
  let wait = IDLE_MS;
  try {
    const db = await sandboxDb();
    const now = nowIso();
    const due = await db.selectFrom('sandbox_deliveries').selectAll().where('status', '=', 'pending').where('next_at', '<=', now).orderBy('next_at', 'asc').limit(50).execute();
    for (const d of due) {
      if (st.stopped) break;
      if (st.inFlight.has(d.id)) continue;
      st.inFlight.add(d.id);
      const send: Promise<void> = deliver(st, db, d).catch((e) => log().error({ event: 'sandbox_notify', delivery_id: d.id, err: e }, 'sandbox notifier delivery failed')).finally(() => {
        st.inFlight.delete(d.id);
        st.sends.delete(send);
        schedule(st, 0);
      });
      st.sends.add(send);
    }
    const next = await db.selectFrom('sandbox_deliveries').select('next_at').where('status', '=', 'pending').where('next_at', '>', now).orderBy('next_at', 'asc').limit(1).executeTakeFirst();
    if (next?.next_at) wait = Date.parse(next.next_at) - Date.now();
  } catch (e) {
    log().error({ event: 'sandbox_notify', err: e }, 'sandbox notifier pass failed');
    wait = 1000;
  } finally {
    st.running = false;
  }
  if (st.again) {
    st.again = false;
    wait = 0;
  }
  schedule(st, wait);
}

async function bodyFor(st: State, db: SandboxDb, d: SandboxDeliveriesTable): Promise<string> {
  if (d.body) return d.body;
  // A refund notify is written when the refund settles, then kept: every retry sends the same XML.
  await settleDueRefunds(db, { outRefundNo: d.out_refund_no ?? undefined });
  let rq = db.selectFrom('sandbox_refunds').selectAll().where('out_refund_no', '=', d.out_refund_no!);
  if (d.mch_id) rq = rq.where('mch_id', '=', d.mch_id);
  const r = await rq.executeTakeFirstOrThrow();
  const o = await db.selectFrom('sandbox_orders').selectAll().where('mch_id', '=', r.mch_id).where('out_trade_no', '=', r.out_trade_no).executeTakeFirstOrThrow();
  const merchant = await findMerchant(r.mch_id, db);
  if (!merchant) throw new Error(`merchant ${r.mch_id} no longer exists`);
  const body = o.sign_type === 'RSA' ? v3RefundNotifyBody(r, o, await v3IdentityOf(merchant)) : refundNotifyXml(r, o, merchant.apiKey);
  await db.updateTable('sandbox_deliveries').set({ body }).where('id', '=', d.id).execute();
  return body;
}

type Post = { status: number | null; reply: string; error: string | null; ms: number; accepted: boolean };

async function post(url: string, body: string, mchId: string | null): Promise<Post> {
  const t0 = Date.now();
  const v3 = isV3Body(body);
  // A v3 notify is signed afresh for every attempt (its timestamp must be within 5 minutes when it
  // lands), as WeChat Pay signs to that merchant.
  const id = v3 ? ((await v3IdentityFor(mchId)) ?? envV3Identity()) : undefined;
  const headers = id ? { 'content-type': 'application/json', ...wechatpayHeaders(body, id) } : { 'content-type': 'text/xml; charset=utf-8' };
  try {
    const r = await fetch(url, { method: 'POST', body, headers: { ...headers, 'user-agent': 'Mozilla/4.0 (sandbox WeChat Pay notifier)' }, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' });
    const reply = (await r.text()).slice(0, REPLY_CAP);
    return { status: r.status, reply, error: null, ms: Date.now() - t0, accepted: notifyAcknowledged(r.status, reply, v3) };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    return { status: null, reply: '', error: (err.name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS} ms` : (err.cause?.code ?? err.message)).slice(0, 300), ms: Date.now() - t0, accepted: false };
  }
}

async function deliver(st: State, db: SandboxDb, d: SandboxDeliveriesTable): Promise<void> {
  const body = await bodyFor(st, db, d);
  const attemptNo = d.attempts + 1;
  // DUPLICATE_NOTIFY: the first attempt goes out twice at once, as from two WeChat servers.
  const posts = await Promise.all(d.duplicate && attemptNo === 1 ? [post(d.url, body, d.mch_id), post(d.url, body, d.mch_id)] : [post(d.url, body, d.mch_id)]);
  for (const p of posts) {
    await db.insertInto('sandbox_attempts').values({
      id: newRowId('at'), delivery_id: d.id, attempt_no: attemptNo, at: nowIso(Date.now() - p.ms), http_status: p.status,
      reply: p.reply, error: p.error, duration_ms: p.ms, accepted: p.accepted ? 1 : 0,
    }).execute();
  }
  const ok = posts.some((p) => p.accepted);
  const last = posts[posts.length - 1];
  const delayS = RETRY_SCHEDULE_S[attemptNo - 1];
  const now = Date.now();
  await db.updateTable('sandbox_deliveries').set({
    attempts: attemptNo,
    status: ok ? 'delivered' : delayS === undefined ? 'failed' : 'pending',
    next_at: ok || delayS === undefined ? null : nowIso(now + (delayS * 1000) / st.config.sandboxTimeScale),
    last_status: last.status,
    last_reply: last.error ?? last.reply.slice(0, 500),
    updated_at: nowIso(now),
  }).where('id', '=', d.id).execute();
}
