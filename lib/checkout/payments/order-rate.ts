import { type Kysely, sql } from 'kysely';
import type { OrderRateSettings } from '../../config';
import { getDbHandle, nowIso } from '../../db';
import type { Database } from '../../db/schema';
import { newId } from '../kernel';

/*
 * The order-creation rate limit. Every new order costs a unifiedorder call against the merchant's WeChat
 * API quota, and a fresh cookie is a fresh buyer, so new orders are counted per buyer and per client
 * address in order_starts, in the database, so the limit holds across instances. Resuming an open
 * attempt or placing a new attempt on an existing order is never counted or limited.
 */

/** The window both limits count over. */
export const ORDER_RATE_WINDOW_MS = 10 * 60_000;

/** Whether one more new order may be made, and when not, which limit said so and when a slot frees. */
export type OrderRateVerdict = { ok: true } | { ok: false; scope: 'buyer' | 'ip'; limit: number; retryAfterSec: number };

/** Who is asking for a new order. */
export interface OrderStarter {
  buyerId: string;
  clientIp: string;
  now: number;
}

// On globalThis like the buyer locks: one prune schedule per process, not per Next bundle.
const pruneKey = Symbol.for('wechat-checkout.order-starts-prune');
const pruned = ((globalThis as Record<symbol, unknown>)[pruneKey] ??= { at: 0 }) as { at: number };

/**
 * Checks both limits. Runs inside the write transaction that then inserts the order (withBuyerLock's):
 * on SQLite that transaction already excludes every other writer; on PostgreSQL a transaction-scoped
 * advisory lock per address and per buyer makes concurrent starts (other skus, other instances) count
 * one after another, so a burst cannot overshoot.
 */
export async function checkOrderRate(db: Kysely<Database>, s: OrderStarter, limits: OrderRateSettings): Promise<OrderRateVerdict> {
  const ip = s.clientIp.slice(0, 64);
  if ((await getDbHandle()).kind === 'postgres') {
    // Always buyer, then address: every caller takes them in this order, so they cannot deadlock.
    if (limits.perBuyer > 0) await sql`select pg_advisory_xact_lock(hashtext(${`order-rate:buyer:${s.buyerId}`}))`.execute(db);
    if (limits.perIp > 0) await sql`select pg_advisory_xact_lock(hashtext(${`order-rate:ip:${ip}`}))`.execute(db);
  }
  const since = nowIso(s.now - ORDER_RATE_WINDOW_MS);
  const checks = [
    { scope: 'buyer' as const, limit: limits.perBuyer, column: 'buyer_id' as const, value: s.buyerId },
    { scope: 'ip' as const, limit: limits.perIp, column: 'client_ip' as const, value: ip },
  ];
  for (const c of checks) {
    if (c.limit <= 0) continue;
    // The newest `limit` starts in the window: when there are that many, the oldest of them frees the next slot.
    const recent = await db.selectFrom('order_starts').select('at').where(c.column, '=', c.value).where('at', '>', since)
      .orderBy('at', 'desc').limit(c.limit).execute();
    if (recent.length >= c.limit) {
      const frees = Date.parse(recent[recent.length - 1].at) + ORDER_RATE_WINDOW_MS;
      return { ok: false, scope: c.scope, limit: c.limit, retryAfterSec: Math.max(1, Math.ceil((frees - s.now) / 1000)) };
    }
  }
  return { ok: true };
}

/** Counts a new order, in the transaction that inserts it; now and then drops starts older than the window. */
export async function noteOrderStart(db: Kysely<Database>, s: OrderStarter & { orderId: string }): Promise<void> {
  await db.insertInto('order_starts').values({ id: newId('os'), order_id: s.orderId, buyer_id: s.buyerId, client_ip: s.clientIp.slice(0, 64), at: nowIso(s.now) }).execute();
  if (s.now - pruned.at > 60_000) {
    pruned.at = s.now;
    await db.deleteFrom('order_starts').where('at', '<', nowIso(s.now - ORDER_RATE_WINDOW_MS)).execute();
  }
}
