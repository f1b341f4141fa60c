import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, migrate, openDb } from '@/lib/db';
import { seedCatalog } from '@/lib/db/seed';
import { ENGINES, freshDatabaseUrl } from '../helpers/db';

/**
 * Migration 0008_checkout_sessions on a database that already has orders, attempts, refunds and events
 * (the schema of 0007): every row survives, the foreign keys of payment_attempts and refunds still point
 * at orders and are enforced, sku and buyer_id accept NULL, merchant_reference is unique, the closed
 * reason is recovered from the old close events, and a second run changes nothing. On SQLite this is
 * the table rebuild (foreign_keys off, create/copy/drop/rename, foreign_key_check); on PostgreSQL the
 * in-place DROP NOT NULL.
 */
describe.each(ENGINES)('migration 0008_checkout_sessions on %s', (engine) => {
  let h: DbHandle;
  const now = new Date().toISOString();
  beforeAll(async () => {
    h = openDb(await freshDatabaseUrl(engine));
    await migrate(h.db, '0007_webhooks');
    await seedCatalog(h.db);
  });
  afterAll(async () => h?.close());

  const db = () => h.db as any;

  it('keeps every order, attempt, refund and event, with their links, and relaxes sku/buyer_id', async () => {
    const order = (id: string, status: string) => ({
      id, sku: 'test-1fen', name: '测试商品', quantity: 1, amount_fen: 100, status, buyer_openid: 'oBuyer', buyer_id: 'b_1',
      transaction_id: status === 'paid' ? '4200000000000000000000000001' : null, refunded_fen: 0, duplicate_paid: 0,
      created_at: now, paid_at: status === 'paid' ? now : null, updated_at: now, last_query_at: null,
    });
    await db().insertInto('orders').values([order('o_paid000001', 'paid'), order('o_expired0001', 'closed'), order('o_merchant001', 'closed'), order('o_pending001', 'pending')]).execute();
    const attempt = (no: string, orderId: string, status: string) => ({
      out_trade_no: no, order_id: orderId, trade_type: 'NATIVE', amount_fen: 100, openid: null, sign_type: 'MD5', prepay_id: null,
      code_url: 'weixin://wxpay/bizpayurl?pr=x', expires_at: now, status, transaction_id: status === 'paid' ? '4200000000000000000000000001' : null,
      created_at: now, updated_at: now,
    });
    await db().insertInto('payment_attempts').values([attempt('P1', 'o_paid000001', 'paid'), attempt('P2', 'o_expired0001', 'closed'), attempt('P3', 'o_pending001', 'open')]).execute();
    await db().insertInto('refunds').values({
      out_refund_no: 'R1', order_id: 'o_paid000001', out_trade_no: 'P1', amount_fen: 40, reason: 'r', origin: 'merchant', status: 'succeeded',
      refund_id: '5000', detail: 'refunded', created_at: now, updated_at: now,
    }).execute();
    const ev = (id: string, orderId: string, detail: string) => ({ id, order_id: orderId, out_trade_no: null, source: 'close', outcome: 'applied', detail, raw: null, at: now });
    await db().insertInto('payment_events').values([
      ev('ev1', 'o_expired0001', 'order closed: payment window expired'),
      ev('ev2', 'o_merchant001', 'order closed: closed by the merchant'),
    ]).execute();

    expect(await migrate(h.db, '0008_checkout_sessions')).toEqual(['0008_checkout_sessions']);

    const orders = await db().selectFrom('orders').selectAll().orderBy('id').execute();
    expect(orders.map((o: any) => [o.id, o.status, o.sku, o.buyer_id, o.origin, o.closed_reason, o.merchant_reference, o.expires_at])).toEqual([
      ['o_expired0001', 'closed', 'test-1fen', 'b_1', 'shop', 'expired', null, null],
      ['o_merchant001', 'closed', 'test-1fen', 'b_1', 'shop', 'merchant', null, null],
      ['o_paid000001', 'paid', 'test-1fen', 'b_1', 'shop', null, null, null],
      ['o_pending001', 'pending', 'test-1fen', 'b_1', 'shop', null, null, null],
    ]);
    expect(orders.find((o: any) => o.id === 'o_paid000001')).toMatchObject({ amount_fen: 100, transaction_id: '4200000000000000000000000001', paid_at: now, buyer_openid: 'oBuyer' });
    expect((await db().selectFrom('payment_attempts').select(['out_trade_no', 'order_id']).orderBy('out_trade_no').execute()).map((a: any) => `${a.out_trade_no}:${a.order_id}`))
      .toEqual(['P1:o_paid000001', 'P2:o_expired0001', 'P3:o_pending001']);
    expect(await db().selectFrom('refunds').select(['out_refund_no', 'order_id', 'out_trade_no']).execute()).toEqual([{ out_refund_no: 'R1', order_id: 'o_paid000001', out_trade_no: 'P1' }]);
    expect((await db().selectFrom('payment_events').select('id').execute()).length).toBe(2);

    // The joins still work, and the foreign keys still hold both ways.
    const joined = await db().selectFrom('refunds as r').innerJoin('orders as o', 'o.id', 'r.order_id').select(['o.id', 'r.amount_fen']).execute();
    expect(joined).toEqual([{ id: 'o_paid000001', amount_fen: 40 }]);
    if (engine === 'sqlite') {
      expect((await sql`pragma foreign_key_check`.execute(h.db)).rows).toEqual([]);
      expect((await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(h.db)).rows[0].foreign_keys).toBe(1);
    }
    await expect(db().insertInto('payment_attempts').values(attempt('P9', 'o_nosuchorder', 'open')).execute()).rejects.toThrow();
    await expect(db().deleteFrom('orders').where('id', '=', 'o_paid000001').execute()).rejects.toThrow();
    await expect(db().insertInto('orders').values({ ...order('o_badsku0001', 'pending'), sku: 'no-such-sku' }).execute()).rejects.toThrow();

    // An API session: no sku, no buyer; merchant_reference unique, NULLs not.
    const session = { ...order('cs_api00000001', 'pending'), sku: null, buyer_id: null, buyer_openid: null, merchant_reference: 'REF-1', origin: 'api', expires_at: now };
    await db().insertInto('orders').values(session).execute();
    await expect(db().insertInto('orders').values({ ...session, id: 'cs_api00000002' }).execute()).rejects.toThrow();
    await db().insertInto('orders').values({ ...session, id: 'cs_api00000003', merchant_reference: null }).execute();
    await db().insertInto('orders').values({ ...session, id: 'cs_api00000004', merchant_reference: null }).execute();
    expect((await db().selectFrom('orders').select('origin').where('id', '=', 'o_pending001').executeTakeFirst()).origin).toBe('shop');

    expect(await migrate(h.db, '0008_checkout_sessions')).toEqual([]);
    expect((await db().selectFrom('orders').select('id').execute()).length).toBe(7);

    // 0009_attempt_cash_fee on the same rows: the column arrives NULL on every attempt paid before it
    // (their cash_fee was never kept), and a second run changes nothing.
    expect(await migrate(h.db, '0009_attempt_cash_fee')).toEqual(['0009_attempt_cash_fee']);
    expect((await db().selectFrom('payment_attempts').select(['out_trade_no', 'cash_fen']).orderBy('out_trade_no').execute()).map((a: any) => [a.out_trade_no, a.cash_fen]))
      .toEqual([['P1', null], ['P2', null], ['P3', null]]);
    // 0010_mweb: the same attempts, with no H5 cashier URL; nobody has been refused H5 yet.
    expect(await migrate(h.db, '0010_mweb')).toEqual(['0010_mweb']);
    expect((await db().selectFrom('payment_attempts').select(['out_trade_no', 'mweb_url', 'mweb_url_at']).orderBy('out_trade_no').execute()).map((a: any) => [a.out_trade_no, a.mweb_url, a.mweb_url_at]))
      .toEqual([['P1', null, null], ['P2', null, null], ['P3', null, null]]);
    expect(await db().selectFrom('pay_capabilities').selectAll().execute()).toEqual([]);
    // 0011_attempt_client_ip: the same attempts, with no buyer IP kept (so none of them is reused for an H5 re-tap).
    expect(await migrate(h.db, '0011_attempt_client_ip')).toEqual(['0011_attempt_client_ip']);
    expect((await db().selectFrom('payment_attempts').select(['out_trade_no', 'client_ip']).orderBy('out_trade_no').execute()).map((a: any) => [a.out_trade_no, a.client_ip]))
      .toEqual([['P1', null], ['P2', null], ['P3', null]]);
    // 0012_drop_orders_openid_idx: an index goes (its longer twin stays), the rows stay as they are.
    expect(await migrate(h.db)).toEqual(['0012_drop_orders_openid_idx']);
    expect((await db().selectFrom('orders').select('id').execute()).length).toBe(7);
    expect(await migrate(h.db)).toEqual([]);
  });
});
