import { log } from '../../log';
import { getDb, nowIso, prepareQuery } from '../../db';
import type { Kysely } from 'kysely';
import type { Database, EventOutcome, EventSource } from '../../db/schema';
import type { ClientAddress } from './client-ip';
import { newId } from './ids';
import { noteUnverifiedRefusal } from './refusals';
import type { DbOrTrx } from './tx';

/** Raw payloads are kept for the merchant's timeline, but never so large that a flood fills the disk. */
export const RAW_CAP = 8 * 1024;

/** One row of the audit log: what happened to which order or attempt, and the payload that said so. */
export interface EventInput {
  orderId?: string | null;
  outTradeNo?: string | null;
  source: EventSource;
  outcome: EventOutcome;
  detail: string;
  raw?: string | null;
}

/** Cuts a payload to RAW_CAP characters, saying how much was cut so nobody mistakes it for the whole. */
export function capRaw(raw: string | null | undefined): string | null {
  if (raw === undefined || raw === null) return null;
  if (raw.length <= RAW_CAP) return raw;
  return `${raw.slice(0, RAW_CAP)}\n[... ${raw.length - RAW_CAP} more characters cut]`;
}

/** The payment_events row of `e`, with a fresh id and the time now (for a caller that writes it in a statement of its own). */
export function eventRow(e: EventInput) {
  return {
    id: newId('ev'),
    order_id: e.orderId ?? null,
    out_trade_no: e.outTradeNo ? e.outTradeNo.slice(0, 64) : null,
    source: e.source,
    outcome: e.outcome,
    detail: e.detail.slice(0, 1000),
    raw: capRaw(e.raw),
    at: nowIso(),
  };
}

/** One audit row's INSERT, compiled once (it runs in every applied payment's transaction). */
const insertEvent = prepareQuery((db, r: ReturnType<typeof eventRow>) => db.insertInto('payment_events').values({
  id: r.id, order_id: r.order_id, out_trade_no: r.out_trade_no, source: r.source, outcome: r.outcome, detail: r.detail, raw: r.raw, at: r.at,
}));

/** Appends one row to the audit log (payment_events), inside the transaction `db` when it is one. */
export async function recordEvent(db: DbOrTrx, e: EventInput): Promise<string> {
  const row = eventRow(e);
  await insertEvent.execute(db, row);
  return row.id;
}

/** Rows per INSERT of appendEvent: bounds the statement (8 parameters a row). */
export const APPEND_BATCH = 100;

type Pending = { row: ReturnType<typeof eventRow>; resolve: (id: string) => void; reject: (e: unknown) => void };

/** The rows waiting for the next INSERT of one database, and whether one is running. */
class EventAppender {
  private queue: Pending[] = [];
  private running = false;
  /** INSERTs run and rows they carried, for tests. */
  inserts = 0;
  rows = 0;

  constructor(private readonly db: Kysely<Database>) {}

  append(row: Pending['row']): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const taken = this.queue.splice(0, APPEND_BATCH);
        try {
          await this.db.insertInto('payment_events').values(taken.map((p) => p.row)).execute();
        } catch (error) {
          // One statement: nothing of it was written, and every row's caller hears why.
          for (const p of taken) p.reject(error);
          continue;
        }
        this.inserts++;
        this.rows += taken.length;
        for (const p of taken) p.resolve(p.row.id);
      }
    } finally {
      this.running = false;
    }
  }
}

const appenders = new WeakMap<Kysely<Database>, EventAppender>();

/**
 * Appends one row to the audit log outside any transaction: for what changes nothing else (a repeat
 * of a payment, a refusal). Rows appended while an INSERT of this database is running go into the
 * next one together, one multi-row INSERT (on SQLite one commit): WeChat's repeats and refusals come
 * in floods, and on PostgreSQL a statement is a round trip, which costs more than the rest of such a
 * notify. At low load a row is inserted at once, alone. Resolves with the row's id once it is
 * committed (on SQLite, on disk); if the INSERT fails, every row of it gets the error and none is written.
 */
export function appendEvent(db: Kysely<Database>, e: EventInput): Promise<string> {
  let a = appenders.get(db);
  if (!a) appenders.set(db, (a = new EventAppender(db)));
  return a.append(eventRow(e));
}

/** INSERTs appendEvent has run on `db` and the rows they carried (rows ÷ inserts is the mean batch). */
export function appendStats(db: Kysely<Database>): { inserts: number; rows: number } {
  const a = appenders.get(db);
  return { inserts: a?.inserts ?? 0, rows: a?.rows ?? 0 };
}

/** What a refused inbound notify is known by: the ids it claimed, when it could be read at all. */
export interface Refusal {
  source: 'notify' | 'refund_notify';
  code: string;
  text: string;
  raw: string | null;
  outTradeNo?: string | null;
  outRefundNo?: string | null;
  /**
   * True when the notify proved it is WeChat's (the signature held, or req_info decrypted) and was
   * refused for what it says (wrong appid, result FAIL, ...). False for everything anyone could send.
   */
  verified: boolean;
  /** The request's X-Forwarded-For (unverified refusals are rate-limited per sender). */
  sender?: ClientAddress;
}

/**
 * Records a refused notify. A verified one is WeChat's signed word: one payment_events row with its
 * capped payload, under the order it names, so the merchant sees it on that order's timeline. An
 * unverified one could be anyone's flood: it only counts toward refused_notifies (./refusals.ts), with
 * a short head of the body, and never lands on an order's timeline, whatever order it claims.
 * Best effort: when even this cannot be stored, the FAIL answer is still right (WeChat retries), so a
 * storage error is logged, never thrown.
 */
export async function recordRefusal(r: Refusal): Promise<void> {
  try {
    if (!r.verified) {
      await noteUnverifiedRefusal({ source: r.source, code: r.code, text: r.text, raw: r.raw, claimed: r.outRefundNo ?? r.outTradeNo, sender: r.sender });
      return;
    }
    const db = await getDb();
    let orderId: string | null = null;
    let outTradeNo = r.outTradeNo ?? null;
    if (r.outRefundNo) {
      const refund = await db.selectFrom('refunds').select(['order_id', 'out_trade_no']).where('out_refund_no', '=', r.outRefundNo).executeTakeFirst();
      orderId = refund?.order_id ?? null;
      outTradeNo = refund?.out_trade_no ?? outTradeNo;
    } else if (outTradeNo) {
      const a = await db.selectFrom('payment_attempts').select('order_id').where('out_trade_no', '=', outTradeNo).executeTakeFirst();
      orderId = a?.order_id ?? null;
    }
    await appendEvent(db, { orderId, outTradeNo, source: r.source, outcome: 'rejected', detail: `${r.code}: ${r.text}`, raw: r.raw });
  } catch (e) {
    log().error({ event: 'refusal', source: r.source, code: r.code, err: e }, 'could not record a refused notify');
  }
}
