import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, initDb, migrate } from '@/lib/db';
import { DEMO_PRODUCTS } from '@/lib/db/seed';
import { ENGINES, freshDatabaseUrl } from '../helpers/db';

describe.each(ENGINES)('database on %s', (engine) => {
  let h: DbHandle;
  let url: string;
  beforeAll(async () => {
    url = await freshDatabaseUrl(engine);
    h = await initDb(url);
  });
  afterAll(async () => h?.close());

  it('opens with the engine the URL names', () => {
    expect(h.kind).toBe(engine);
  });

  it('creates every table and seeds the demo catalog with a 1-fen product', async () => {
    for (const t of ['products', 'orders', 'payment_attempts', 'refunds', 'payment_events', 'refused_notifies', 'order_starts', 'webhook_endpoints', 'webhook_events', 'webhook_deliveries', 'webhook_attempts'] as const) {
      await sql`select count(*) as n from ${sql.table(t)}`.execute(h.db);
    }
    const products = await h.db.selectFrom('products').selectAll().execute();
    expect(products.length).toBe(DEMO_PRODUCTS.length);
    expect(products.length).toBeGreaterThanOrEqual(3);
    expect(products.some((p) => p.price_fen === 1)).toBe(true);
  });

  it('applying migrations again changes nothing and a second start does not reseed', async () => {
    expect(await migrate(h.db)).toEqual([]);
    await h.db.updateTable('products').set({ active: 0 }).where('sku', '=', 'green-tea').execute();
    await h.db.deleteFrom('products').where('sku', '=', 'coffee-beans').execute();
    const second = await initDb(url);
    try {
      const products = await second.db.selectFrom('products').selectAll().orderBy('sku').execute();
      expect(products.map((p) => p.sku)).not.toContain('coffee-beans');
      expect(products.find((p) => p.sku === 'green-tea')?.active).toBe(0);
    } finally {
      await second.close();
    }
  });

  it('enforces the schema: positive amounts, unique out_trade_no, foreign keys', async () => {
    const now = new Date().toISOString();
    const order = { id: `o_${engine}`, sku: 'test-1fen', name: 'x', quantity: 1, amount_fen: 1, status: 'pending' as const, buyer_id: 'b', created_at: now, updated_at: now };
    await h.db.insertInto('orders').values(order).execute();
    await expect(h.db.insertInto('orders').values({ ...order, id: 'o_neg', amount_fen: -1 }).execute()).rejects.toThrow();
    await expect(h.db.insertInto('orders').values({ ...order, id: 'o_fk', sku: 'no-such-sku' }).execute()).rejects.toThrow();
    const attempt = { out_trade_no: `T${engine}0001`, order_id: order.id, trade_type: 'NATIVE' as const, amount_fen: 1, sign_type: 'MD5', expires_at: now, status: 'open' as const, created_at: now, updated_at: now };
    await h.db.insertInto('payment_attempts').values(attempt).execute();
    await expect(h.db.insertInto('payment_attempts').values(attempt).execute()).rejects.toThrow();
  });
});
