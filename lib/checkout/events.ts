import type { Kysely, Transaction } from 'kysely';
import { nowIso } from '../db';
import type { Database, EventOutcome, EventSource } from '../db/schema';
import { newId } from './ids';

/** A database or an open transaction: events are written inside the transition they describe. */
export type DbOrTrx = Kysely<Database> | Transaction<Database>;

/** Raw payloads are kept for the merchant's timeline, but never so large that a flood fills the disk. */
export const RAW_CAP = 8 * 1024;

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

/** Appends one row to the audit log (payment_events). */
export async function recordEvent(db: DbOrTrx, e: EventInput): Promise<string> {
  const id = newId('ev');
  await db
    .insertInto('payment_events')
    .values({
      id,
      order_id: e.orderId ?? null,
      out_trade_no: e.outTradeNo ? e.outTradeNo.slice(0, 64) : null,
      source: e.source,
      outcome: e.outcome,
      detail: e.detail.slice(0, 1000),
      raw: capRaw(e.raw),
      at: nowIso(),
    })
    .execute();
  return id;
}
