import { log } from '../../log';
import { type Kysely, sql } from 'kysely';
import { getConfig } from '../../config';
import { nowIso } from '../../db';
import type { Database, RefusedNotifiesTable } from '../../db/schema';
import { type ClientAddress, clientIp } from './client-ip';
import { writeTransaction } from './tx';

/*
 * The trail of UNVERIFIED notifies (no valid signature, not XML, oversized, GET probes). Anyone can send
 * those, as fast as they like, so they must cost neither disk nor fsyncs in proportion to their number:
 *   - one row per (route, code, hour) in refused_notifies, with a hit count, first/last seen, the last
 *     sender and the first body's head (SAMPLE_BYTES), never a row per request;
 *   - a trickle is written as it happens (at most PER_SENDER_PER_MIN per client address and
 *     GLOBAL_PER_MIN per process a minute), so a merchant debugging a wrong API key sees it at once;
 *   - beyond that a hit only increments a counter in memory, and every FLUSH_MS the counters are added
 *     to their rows in one transaction, so a flood costs at most one write every FLUSH_MS.
 * Verified notifies refused for a business reason are WeChat's signed word and stay in payment_events
 * with their payload (events.ts recordRefusal).
 */

/** Hits of one route and code within this long share a row. */
export const REFUSAL_BUCKET_MS = 60 * 60_000;
/** How much of an unverified body is kept: enough to recognise it, too little to fill a disk. */
export const SAMPLE_BYTES = 256;
/** Writes as they happen, per client address per minute; beyond that hits are only counted. */
export const PER_SENDER_PER_MIN = 10;
/** Writes as they happen, per process per minute, whatever the addresses (a forged X-Forwarded-For rotates them). */
export const GLOBAL_PER_MIN = 60;
/** How often counted-only hits are added to their rows. */
export const FLUSH_MS = 5_000;
/** Aggregate rows older than this are deleted, so even a month-long flood stays bounded. */
export const REFUSAL_RETENTION_MS = 30 * 24 * 60 * 60_000;
/** Senders remembered for the per-sender allowance; past this, new senders only count. */
const MAX_SENDERS = 10_000;

/** An unverified notify to remember: its route, reason, body and sender. */
export interface UnverifiedRefusal {
  source: RefusedNotifiesTable['source'];
  code: string;
  text: string;
  raw: string | null;
  /** The id it claimed (unverified): out_refund_no or out_trade_no. */
  claimed?: string | null;
  /** The request's X-Forwarded-For, read by the route; the sender follows the kernel's client-IP rule. */
  sender?: ClientAddress;
}

interface Pending {
  source: RefusedNotifiesTable['source'];
  code: string;
  bucket: string;
  hits: number;
  firstAt: string;
  lastAt: string;
  lastSender: string;
  claimed: string | null;
  detail: string;
  sample: string | null;
}

interface State {
  pending: Map<string, Pending>;
  senders: Map<string, { minute: number; n: number }>;
  global: { minute: number; n: number };
  timer: ReturnType<typeof setTimeout> | null;
  lastPrune: number;
}

// On globalThis: Next bundles each route separately, and per-bundle counters would multiply the caps.
const stateKey = Symbol.for('wechat-checkout.refusals');
const state: State = ((globalThis as Record<symbol, unknown>)[stateKey] ??= {
  pending: new Map(), senders: new Map(), global: { minute: 0, n: 0 }, timer: null, lastPrune: 0,
}) as State;

/** The first `max` bytes of a body, never half a character, saying how much was cut. */
export function headOf(raw: string | null, max: number = SAMPLE_BYTES): string | null {
  if (raw === null) return null;
  const buf = Buffer.from(raw, 'utf8');
  if (buf.length <= max) return raw;
  let end = max;
  // Step back over UTF-8 continuation bytes so the cut lands on a character boundary.
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return `${buf.subarray(0, end).toString('utf8')}[... ${buf.length - end} more bytes]`;
}

/** Refusal codes are ours (XML_DOCTYPE, BAD_SIGN, ...); anything else is folded so it cannot multiply rows. */
function safeCode(code: string): string {
  return /^[A-Z][A-Z0-9_]{0,39}$/.test(code) ? code : 'OTHER';
}

/** True while this sender and this process may still write as it happens this minute. */
function mayWriteNow(sender: string, now: number): boolean {
  const minute = Math.floor(now / 60_000);
  if (state.global.minute !== minute) state.global = { minute, n: 0 };
  if (state.global.n >= GLOBAL_PER_MIN) return false;
  let s = state.senders.get(sender);
  if (!s || s.minute !== minute) {
    if (!s && state.senders.size >= MAX_SENDERS) {
      for (const [k, v] of state.senders) if (v.minute !== minute) state.senders.delete(k);
      if (state.senders.size >= MAX_SENDERS) return false;
    }
    s = { minute, n: 0 };
    state.senders.set(sender, s);
  }
  if (s.n >= PER_SENDER_PER_MIN) return false;
  s.n++;
  state.global.n++;
  return true;
}

/**
 * Counts an unverified notify and, within the allowances, writes its row at once; otherwise it is
 * added to the row by the next flush. Best effort: a storage error is logged, never thrown (the FAIL
 * answer is right either way, and WeChat retries).
 */
export async function noteUnverifiedRefusal(r: UnverifiedRefusal, now: number = Date.now()): Promise<void> {
  const code = safeCode(r.code);
  const sender = clientIp(r.sender ?? {}, getConfig().trustProxy);
  const bucket = nowIso(Math.floor(now / REFUSAL_BUCKET_MS) * REFUSAL_BUCKET_MS);
  const key = `${r.source}|${code}|${bucket}`;
  const at = nowIso(now);
  const claimed = r.claimed ? r.claimed.slice(0, 64) : null;
  const p = state.pending.get(key);
  if (p) {
    p.hits++;
    p.lastAt = at;
    p.lastSender = sender;
    p.claimed = claimed ?? p.claimed;
  } else {
    state.pending.set(key, {
      source: r.source, code, bucket, hits: 1, firstAt: at, lastAt: at, lastSender: sender, claimed,
      detail: `${code}: ${r.text}`.slice(0, 200), sample: headOf(r.raw),
    });
  }
  if (mayWriteNow(sender, now)) await flushRefusals([key]);
  else scheduleFlush();
}

function scheduleFlush(): void {
  if (state.timer) return;
  state.timer = setTimeout(() => {
    state.timer = null;
    void flushRefusals();
  }, FLUSH_MS);
  // A pending flush must not keep a script or a test process alive.
  state.timer.unref?.();
}

/**
 * Adds this process's counted hits (all of them, or only `keys`) to their rows in one transaction.
 * The merchant's view calls it first, so it shows this instance's latest counts. Hits whose write fails
 * go back into memory for the next flush.
 */
export async function flushRefusals(keys?: string[]): Promise<void> {
  const taken: Pending[] = [];
  for (const k of keys ?? [...state.pending.keys()]) {
    const p = state.pending.get(k);
    if (!p) continue;
    // Taken out before any await: hits noted meanwhile start a new entry, never counted twice.
    state.pending.delete(k);
    taken.push(p);
  }
  if (taken.length === 0) return;
  try {
    const prune = Date.now() - state.lastPrune > REFUSAL_BUCKET_MS;
    await writeTransaction(async (trx) => {
      for (const p of taken) await upsert(trx, p);
      if (prune) await trx.deleteFrom('refused_notifies').where('bucket', '<', nowIso(Date.now() - REFUSAL_RETENTION_MS)).execute();
    });
    if (prune) state.lastPrune = Date.now();
  } catch (e) {
    log().error({ event: 'refused_notifies_flush', err: e }, 'could not store refused-notify counts; kept for the next flush');
    for (const p of taken) merge(p);
    scheduleFlush();
  }
}

function merge(p: Pending): void {
  const key = `${p.source}|${p.code}|${p.bucket}`;
  const cur = state.pending.get(key);
  if (!cur) {
    state.pending.set(key, p);
    return;
  }
  cur.hits += p.hits;
  if (p.firstAt < cur.firstAt) {
    cur.firstAt = p.firstAt;
    cur.detail = p.detail;
    cur.sample = p.sample;
  }
}

async function upsert(db: Kysely<Database>, p: Pending): Promise<void> {
  await db
    .insertInto('refused_notifies')
    .values({
      source: p.source, code: p.code, bucket: p.bucket, hits: p.hits, first_at: p.firstAt, last_at: p.lastAt,
      last_sender: p.lastSender, claimed: p.claimed, detail: p.detail, sample: p.sample,
    })
    .onConflict((oc) =>
      oc.columns(['source', 'code', 'bucket']).doUpdateSet({
        hits: sql<number>`refused_notifies.hits + excluded.hits`,
        // Instances flush in any order: keep the earliest first hit and the latest last hit.
        first_at: sql<string>`case when excluded.first_at < refused_notifies.first_at then excluded.first_at else refused_notifies.first_at end`,
        last_at: sql<string>`case when excluded.last_at > refused_notifies.last_at then excluded.last_at else refused_notifies.last_at end`,
        last_sender: sql<string>`case when excluded.last_at > refused_notifies.last_at then excluded.last_sender else refused_notifies.last_sender end`,
        claimed: sql<string>`case when excluded.last_at > refused_notifies.last_at then coalesce(excluded.claimed, refused_notifies.claimed) else refused_notifies.claimed end`,
      }),
    )
    .execute();
}
