import type { ExpressionBuilder } from 'kysely';
import { type Database, getDb, nowIso } from '../../db';
import type { Order } from '../../db/schema';
import { ORDER_ID_RE } from '../kernel';
import type { SessionStatus } from '../objects';
import type { ListSessionsInput } from './schemas';

/** One session (order) by id; undefined for an unknown or malformed id. */
export async function getSessionOrder(id: string): Promise<Order | undefined> {
  if (!ORDER_ID_RE.test(id)) return undefined;
  return (await getDb()).selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A page of sessions, or the starting_after id that names no session. */
export type ListOutcome = { ok: true; orders: Order[]; hasMore: boolean } | { ok: false; param: 'starting_after'; message: string };

/** The SQL for one session status at `now` (the same mapping as objects' sessionStatus). */
function statusWhere(status: SessionStatus, now: string) {
  return (eb: ExpressionBuilder<Database, 'orders'>) => {
    switch (status) {
      case 'open':
        return eb.and([eb('status', '=', 'pending'), eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)])]);
      case 'expired':
        return eb.or([
          eb.and([eb('status', '=', 'pending'), eb('expires_at', '<=', now)]),
          eb.and([eb('status', '=', 'closed'), eb('closed_reason', '=', 'expired')]),
        ]);
      case 'closed':
        return eb.and([eb('status', '=', 'closed'), eb.or([eb('closed_reason', 'is', null), eb('closed_reason', '!=', 'expired')])]);
      default:
        return eb('status', '=', status);
    }
  };
}

/** Page size when `limit` is not given (Stripe's default). */
export const DEFAULT_LIST_LIMIT = 10;

/**
 * Sessions newest first (created_at, then id, both descending), shop-link purchases included: they are
 * checkout sessions too. Cursor pagination as Stripe's: `starting_after` is the last id of the previous
 * page, and the next page is what sorts after it (a keyset range on orders_created_idx, never OFFSET).
 */
export async function listSessionOrders(q: ListSessionsInput, now: number = Date.now()): Promise<ListOutcome> {
  const db = await getDb();
  const limit = q.limit ?? DEFAULT_LIST_LIMIT;
  let query = db.selectFrom('orders').selectAll();
  if (q.starting_after) {
    const after = await db.selectFrom('orders').select(['created_at', 'id']).where('id', '=', q.starting_after).executeTakeFirst();
    if (!after) return { ok: false, param: 'starting_after', message: `starting_after: no checkout session ${q.starting_after}` };
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.created_at, after.id)));
  }
  if (q.merchant_reference !== undefined) query = query.where('merchant_reference', '=', q.merchant_reference);
  if (q.status) query = query.where(statusWhere(q.status as SessionStatus, nowIso(now)));
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
  return { ok: true, orders: rows.slice(0, limit), hasMore: rows.length > limit };
}
