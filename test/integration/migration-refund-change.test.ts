import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, initDb } from '@/lib/db';
import { MIGRATIONS } from '@/lib/db/migrations';
import { ENGINES, freshDatabaseUrl } from '../helpers/db';
import { insertOrder } from '../helpers/orders';

/**
 * Migration 0005_refund_change re-books refunds the old code booked `failed` for WeChat's CHANGE (their
 * detail starts "CHANGE:") as `abnormal`, so their amount stops being offered for refund again. The
 * data of the old code is written after all migrations ran, then 0005 is run again by itself (Kysely's
 * Migrator refuses to re-run a migration older than the newest applied one).
 */
describe.each(ENGINES)('migration 0005_refund_change on %s', (engine) => {
  let h: DbHandle;
  beforeAll(async () => {
    h = await initDb(await freshDatabaseUrl(engine));
  });
  afterAll(async () => h?.close());

  it('re-books old CHANGE refunds as abnormal, leaves every other refund alone, and applies once', async () => {
    const a = await insertOrder(h.db, { amountFen: 6800 });
    await h.db.updateTable('payment_attempts').set({ status: 'paid', transaction_id: '4200000000000000000000000007' }).where('out_trade_no', '=', a.outTradeNo).execute();
    await h.db.updateTable('orders').set({ status: 'paid', transaction_id: '4200000000000000000000000007' }).where('id', '=', a.orderId).execute();
    const now = new Date().toISOString();
    const row = (no: string, status: 'failed' | 'succeeded', detail: string) => ({
      out_refund_no: no, order_id: a.orderId, out_trade_no: a.outTradeNo, amount_fen: 100, reason: 't', origin: 'merchant',
      status, refund_id: null, detail, created_at: now, updated_at: now,
    });
    await h.db.insertInto('refunds').values([
      row('RCHANGE1', 'failed', 'CHANGE: WeChat could not return the money to the buyer (退款异常); settle it in the merchant portal'),
      row('RCLOSE1', 'failed', 'REFUNDCLOSE: WeChat closed the refund'),
      row('RNOTENOUGH1', 'failed', 'NOTENOUGH: 余额不足'),
      row('ROK1', 'succeeded', 'refunded'),
    ]).execute();
    await MIGRATIONS['0005_refund_change'].up(h.db);
    const status = async () => Object.fromEntries((await h.db.selectFrom('refunds').select(['out_refund_no', 'status']).where('order_id', '=', a.orderId).execute()).map((r) => [r.out_refund_no, r.status]));
    expect(await status()).toEqual({ RCHANGE1: 'abnormal', RCLOSE1: 'failed', RNOTENOUGH1: 'failed', ROK1: 'succeeded' });
    expect((await h.db.selectFrom('orders').select('refunded_fen').where('id', '=', a.orderId).executeTakeFirstOrThrow()).refunded_fen).toBe(0);

    await MIGRATIONS['0005_refund_change'].up(h.db);
    expect(await status()).toEqual({ RCHANGE1: 'abnormal', RCLOSE1: 'failed', RNOTENOUGH1: 'failed', ROK1: 'succeeded' });
  });
});
