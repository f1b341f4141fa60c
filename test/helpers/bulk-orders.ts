import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../lib/db/schema';
import { newOrderId, newOutTradeNo } from '../../lib/checkout/kernel';
import type { TestAttempt } from './orders';

/**
 * Many pending orders, each with one open NATIVE attempt of the same amount, written in one transaction
 * with multi-row inserts: the same rows `insertOrder` (./orders.ts) writes one at a time, for
 * benchmarks that need thousands (every applying notify needs its own open attempt).
 *
 * Shaped like a shop's real orders, since the indexes' page writes depend on it: each order its own
 * buyer (a random id, unless `buyerId` is given) and its own creation time, one millisecond apart in
 * the order returned and ending now. (Orders all created in the same millisecond sort by their random
 * ids in every index that starts with `created_at`, so paying them in order would touch a random page
 * of those indexes each time, which a shop's orders, paid soon after they are placed, do not.)
 */
export async function insertOrdersBulk(db: Kysely<Database>, n: number, opts: { amountFen?: number; sku?: string; buyerId?: string } = {}): Promise<TestAttempt[]> {
  const amountFen = opts.amountFen ?? 1;
  const now = Date.now();
  const expires = new Date(now + 60 * 60_000).toISOString();
  const out: TestAttempt[] = Array.from({ length: n }, () => ({ orderId: newOrderId(), outTradeNo: newOutTradeNo(now), amountFen, codeUrl: null }));
  const createdAt = (i: number) => new Date(now - (n - 1 - i)).toISOString();
  const CHUNK = 250;
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < n; i += CHUNK) {
      const part = out.slice(i, i + CHUNK);
      await trx.insertInto('orders').values(part.map((a, j) => ({
        id: a.orderId, sku: opts.sku ?? 'test-1fen', name: '测试商品 · 1 分钱', quantity: 1, amount_fen: amountFen, status: 'pending' as const,
        buyer_openid: null, buyer_id: opts.buyerId ?? `b_${randomBytes(9).toString('base64url')}`, transaction_id: null,
        created_at: createdAt(i + j), paid_at: null, updated_at: createdAt(i + j), last_query_at: null,
      }))).execute();
      await trx.insertInto('payment_attempts').values(part.map((a, j) => ({
        out_trade_no: a.outTradeNo, order_id: a.orderId, trade_type: 'NATIVE' as const, amount_fen: amountFen, openid: null, sign_type: 'MD5',
        prepay_id: null, code_url: null, expires_at: expires, status: 'open' as const, transaction_id: null, created_at: createdAt(i + j), updated_at: createdAt(i + j),
      }))).execute();
    }
  });
  return out;
}
