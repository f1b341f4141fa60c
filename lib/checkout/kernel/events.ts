import { log } from '../../log';
import { getDb, nowIso } from '../../db';
import type { EventOutcome, EventSource } from '../../db/schema';
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
    await recordEvent(db, { orderId, outTradeNo, source: r.source, outcome: 'rejected', detail: `${r.code}: ${r.text}`, raw: r.raw });
  } catch (e) {
    log().error({ event: 'refusal', source: r.source, code: r.code, err: e }, 'could not record a refused notify');
  }
}
