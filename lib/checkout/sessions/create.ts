import { getConfig } from '../../config';
import { getDb, nowIso } from '../../db';
import type { Order } from '../../db/schema';
import { newOrderId, recordEvent } from '../kernel';
import { MIN_EXPIRES_MINUTES, type CreateSessionInput } from './schemas';

/** What a create came to: a new session, the one already made for this merchant_reference, or a conflict with it. */
export type CreateOutcome =
  | { kind: 'created'; order: Order }
  | { kind: 'existing'; order: Order }
  | { kind: 'conflict'; order: Order }
  | { kind: 'invalid'; param: string; message: string };

/** The default payment window: ORDER_TTL_MINUTES, but never under the API's minimum. */
export function defaultExpiresMinutes(): number {
  return Math.max(MIN_EXPIRES_MINUTES, getConfig().orderTtlMinutes);
}

/**
 * Creates a checkout session: an `orders` row with origin 'api', no product and no buyer yet, the
 * description as its name (shown in WeChat as the unifiedorder body) and its own payment window.
 * merchant_reference is unique: a second create with the same one and the same amount returns the
 * first session (`existing`), with another amount `conflict`, and nothing is written either way. A
 * concurrent create of the same reference loses the insert to the unique index and reads the winner.
 */
export async function createSession(input: CreateSessionInput, now: number = Date.now()): Promise<CreateOutcome> {
  const config = getConfig();
  if (input.success_url && config.mode === 'live' && !input.success_url.startsWith('https://')) {
    return { kind: 'invalid', param: 'success_url', message: 'success_url: must be https in live mode' };
  }
  const db = await getDb();
  const at = nowIso(now);
  const id = newOrderId();
  const minutes = input.expires_in_minutes ?? defaultExpiresMinutes();
  const inserted = await db.insertInto('orders').values({
    id, sku: null, name: input.description, quantity: 1, amount_fen: input.amount_fen, status: 'pending',
    buyer_openid: null, buyer_id: null, transaction_id: null, created_at: at, paid_at: null, updated_at: at, last_query_at: null,
    merchant_reference: input.merchant_reference, success_url: input.success_url ?? null,
    metadata: input.metadata && Object.keys(input.metadata).length > 0 ? JSON.stringify(input.metadata) : null,
    expires_at: nowIso(now + minutes * 60_000), origin: 'api', closed_reason: null,
  }).onConflict((oc) => oc.column('merchant_reference').doNothing()).executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) {
    await recordEvent(db, { orderId: id, source: 'merchant', outcome: 'applied', detail: `checkout session created through the API: ${input.amount_fen} fen, merchant_reference ${input.merchant_reference}, expires in ${minutes} min` });
    return { kind: 'created', order: await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow() };
  }
  const existing = await db.selectFrom('orders').selectAll().where('merchant_reference', '=', input.merchant_reference).executeTakeFirstOrThrow();
  return Number(existing.amount_fen) === input.amount_fen ? { kind: 'existing', order: existing } : { kind: 'conflict', order: existing };
}
