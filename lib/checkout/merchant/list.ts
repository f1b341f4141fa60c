import type { Kysely, SelectQueryBuilder } from 'kysely';
import { chinaDate, chinaDayBounds } from '../../china-time';
import { getDb } from '../../db';
import type { Database, Order, OrderStatus } from '../../db/schema';

/**
 * The merchant's order list. Every query here is answered from an index (proved by EXPLAIN in
 * test/integration/merchant-indexes.test.ts on 10,000 orders, both engines):
 *  - list / status filter / date range: keyset pagination on (created_at, id) descending over
 *    orders_created_idx or orders_status_created_idx, never OFFSET;
 *  - search: exact matches only, each kind through its own index (see findOrderIdsFor), merged here.
 */
export const ORDER_STATUSES: OrderStatus[] = ['pending', 'paid', 'closed', 'partially_refunded', 'refunded'];

export interface OrderFilter {
  status?: OrderStatus;
  /** China-time calendar dates, inclusive. */
  from?: string;
  to?: string;
  /** Exact order id, out_trade_no, transaction_id or openid. */
  q?: string;
}

export interface OrderCursor {
  createdAt: string;
  id: string;
}

export interface MerchantOrderRow {
  id: string;
  status: OrderStatus;
  amountFen: number;
  refundedFen: number;
  /** Null for an API checkout session (it has a description, `name`, and no product). */
  sku: string | null;
  name: string;
  quantity: number;
  buyerOpenid: string | null;
  transactionId: string | null;
  duplicatePaid: boolean;
  createdAt: string;
  paidAt: string | null;
}

export type ParsedQuery = { ok: true; filter: OrderFilter; cursor?: OrderCursor; limit: number } | { ok: false; message: string };

function encodeCursor(c: OrderCursor): string {
  return Buffer.from(`${c.createdAt}|${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(s: string): OrderCursor | undefined {
  const text = Buffer.from(s, 'base64url').toString('utf8');
  const [createdAt, id, extra] = text.split('|');
  if (extra !== undefined || !createdAt || !id || !/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(createdAt) || id.length > 64) return undefined;
  return { createdAt, id };
}

/** Reads status, from, to, q, cursor and limit from a query string, refusing what does not parse. */
export function parseOrderQuery(params: URLSearchParams, maxLimit = 200): ParsedQuery {
  const filter: OrderFilter = {};
  const status = params.get('status')?.trim();
  if (status) {
    if (!ORDER_STATUSES.includes(status as OrderStatus)) return { ok: false, message: `status must be one of ${ORDER_STATUSES.join(', ')}` };
    filter.status = status as OrderStatus;
  }
  for (const k of ['from', 'to'] as const) {
    const v = params.get(k)?.trim();
    if (v) {
      if (!chinaDayBounds(v)) return { ok: false, message: `${k} must be a date like 2026-11-22` };
      filter[k] = v;
    }
  }
  const q = params.get('q')?.trim();
  if (q) {
    if (q.length > 128) return { ok: false, message: 'q is too long (128 characters at most)' };
    filter.q = q;
  }
  let cursor: OrderCursor | undefined;
  const c = params.get('cursor')?.trim();
  if (c) {
    cursor = decodeCursor(c);
    if (!cursor) return { ok: false, message: 'cursor is not one this server gave out' };
  }
  let limit = 50;
  const l = params.get('limit')?.trim();
  if (l) {
    limit = Number(l);
    if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) return { ok: false, message: `limit must be an integer from 1 to ${maxLimit}` };
  }
  return { ok: true, filter, cursor, limit };
}

type OrdersQuery = SelectQueryBuilder<Database, 'orders', Order>;

function applyRange(qb: OrdersQuery, filter: OrderFilter, cursor?: OrderCursor): OrdersQuery {
  let q = qb;
  if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.from) q = q.where('created_at', '>=', chinaDayBounds(filter.from)!.start);
  if (filter.to) q = q.where('created_at', '<', chinaDayBounds(filter.to)!.end);
  // A row-value comparison is one index range on (created_at, id) in both engines; the OR spelling is not.
  if (cursor) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(cursor.createdAt, cursor.id)));
  return q;
}

function page(qb: OrdersQuery, limit: number): OrdersQuery {
  return qb.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit);
}

/** Order ids whose own id, an attempt's out_trade_no, or a transaction id equals q: point lookups on PKs and indexes. */
export async function findOrderIdsFor(db: Kysely<Database>, q: string): Promise<string[]> {
  const [byId, byTxn, byOtn, byAttemptTxn] = await Promise.all([
    db.selectFrom('orders').select('id').where('id', '=', q).execute(),
    db.selectFrom('orders').select('id').where('transaction_id', '=', q).execute(),
    db.selectFrom('payment_attempts').select('order_id as id').where('out_trade_no', '=', q).execute(),
    db.selectFrom('payment_attempts').select('order_id as id').where('transaction_id', '=', q).execute(),
  ]);
  return [...new Set([...byId, ...byTxn, ...byOtn, ...byAttemptTxn].map((r) => r.id))];
}

/** The queries listOrders runs, exposed so the index test can EXPLAIN exactly them. */
export function listQueries(db: Kysely<Database>, filter: OrderFilter, cursor: OrderCursor | undefined, limit: number, ids: string[] = []): OrdersQuery[] {
  const base = () => applyRange(db.selectFrom('orders').selectAll(), filter, cursor);
  if (!filter.q) return [page(base(), limit + 1)];
  const out: OrdersQuery[] = [page(base().where('buyer_openid', '=', filter.q), limit + 1)];
  if (ids.length > 0) out.push(page(base().where('id', 'in', ids), limit + 1));
  return out;
}

export function toRow(o: Order): MerchantOrderRow {
  return {
    id: o.id,
    status: o.status,
    amountFen: Number(o.amount_fen),
    refundedFen: Number(o.refunded_fen),
    sku: o.sku,
    name: o.name,
    quantity: Number(o.quantity),
    buyerOpenid: o.buyer_openid,
    transactionId: o.transaction_id,
    duplicatePaid: Number(o.duplicate_paid) === 1,
    createdAt: o.created_at,
    paidAt: o.paid_at,
  };
}

/** One page of orders, newest first, and the cursor of the next page (null at the end). */
export async function listOrders(filter: OrderFilter, cursor: OrderCursor | undefined, limit: number, dbArg?: Kysely<Database>): Promise<{ orders: MerchantOrderRow[]; nextCursor: string | null }> {
  const db = dbArg ?? (await getDb());
  const ids = filter.q ? await findOrderIdsFor(db, filter.q) : [];
  const results = await Promise.all(listQueries(db, filter, cursor, limit, ids).map((q) => q.execute()));
  const seen = new Set<string>();
  const merged = results.flat().filter((o) => (seen.has(o.id) ? false : (seen.add(o.id), true)));
  merged.sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1));
  const pageRows = merged.slice(0, limit);
  const last = pageRows[pageRows.length - 1];
  const nextCursor = merged.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null;
  return { orders: pageRows.map(toRow), nextCursor };
}

export interface TodayTotals {
  /** China-time date the totals are for. */
  date: string;
  paidCount: number;
  /** Gross: the amounts of orders whose payment landed today, before any refund. */
  grossFen: number;
  /** Refunded so far on those same orders (so gross - refunded is today's net). */
  refundedFen: number;
}

/** Orders paid today (UTC+8), over orders_paid_idx (migration 0002_merchant). */
export async function todayTotals(now = Date.now(), dbArg?: Kysely<Database>): Promise<TodayTotals> {
  const db = dbArg ?? (await getDb());
  const date = chinaDate(now);
  const { start, end } = chinaDayBounds(date)!;
  const r = await todayQuery(db, start, end).executeTakeFirst();
  return { date, paidCount: Number(r?.n ?? 0), grossFen: Number(r?.gross ?? 0), refundedFen: Number(r?.refunded ?? 0) };
}

export function todayQuery(db: Kysely<Database>, start: string, end: string) {
  return db
    .selectFrom('orders')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum<number>('amount_fen').as('gross'), eb.fn.sum<number>('refunded_fen').as('refunded')])
    .where('paid_at', '>=', start)
    .where('paid_at', '<', end);
}
