import type { Kysely } from 'kysely';
import type { Database } from '../../lib/db/schema';
import { newOrderId, newOutTradeNo } from '../../lib/checkout/kernel';
import type { TestAttempt } from './orders';

/**
 * Many pending orders, each with one open NATIVE attempt of the same amount, written in one transaction
 * with multi-row inserts: the same rows `insertOrder` (./orders.ts) writes one at a time, for
 * benchmarks that need thousands (every applying notify needs its own open attempt).
 */
export async function insertOrdersBulk(db: Kysely<Database>, n: number, opts: { amountFen?: number; sku?: string; buyerId?: string } = {}): Promise<TestAttempt[]> {
  const amountFen = opts.amountFen ?? 1;
  const now = Date.now();
  const at = new Date(now).toISOString();
  const expires = new Date(now + 60 * 60_000).toISOString();
  const out: TestAttempt[] = Array.from({ length: n }, () => ({ orderId: newOrderId(), outTradeNo: newOutTradeNo(now), amountFen, codeUrl: null }));
  const CHUNK = 250;
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < n; i += CHUNK) {
      const part = out.slice(i, i + CHUNK);
      await trx.insertInto('orders').values(part.map((a) => ({
        id: a.orderId, sku: opts.sku ?? 'test-1fen', name: '测试商品 · 1 分钱', quantity: 1, amount_fen: amountFen, status: 'pending' as const,
        buyer_openid: null, buyer_id: opts.buyerId ?? 'test-buyer', transaction_id: null, created_at: at, paid_at: null, updated_at: at,
        last_query_at: null,
      }))).execute();
      await trx.insertInto('payment_attempts').values(part.map((a) => ({
        out_trade_no: a.outTradeNo, order_id: a.orderId, trade_type: 'NATIVE' as const, amount_fen: amountFen, openid: null, sign_type: 'MD5',
        prepay_id: null, code_url: null, expires_at: expires, status: 'open' as const, transaction_id: null, created_at: at, updated_at: at,
      }))).execute();
    }
  });
  return out;
}
