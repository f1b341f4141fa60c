import type { Kysely } from 'kysely';
import type { Database } from './schema';

/** The demo catalog: one product priced 1 fen, the price merchants test real payments with. */
export const DEMO_PRODUCTS = [
  { sku: 'test-1fen', name: '测试商品 · 1 分钱', description: 'The 1-fen test item merchants try payments with.', price_fen: 1 },
  { sku: 'green-tea', name: '明前龙井 50g', description: 'West Lake Longjing, spring picking.', price_fen: 6800 },
  { sku: 'mooncake-box', name: '广式月饼礼盒', description: 'Six Cantonese mooncakes in a gift box.', price_fen: 12800 },
  { sku: 'coffee-beans', name: '云南小粒咖啡豆 250g', description: 'Single-origin Yunnan arabica, medium roast.', price_fen: 4500 },
];

/**
 * Seeds the demo catalog on the very first start only: once any product exists (or existed and was
 * deactivated by the merchant) nothing is inserted, so a merchant's edits are never undone.
 */
export async function seedCatalog(db: Kysely<Database>): Promise<boolean> {
  const any = await db.selectFrom('products').select('sku').limit(1).executeTakeFirst();
  if (any) return false;
  const now = new Date().toISOString();
  await db
    .insertInto('products')
    .values(DEMO_PRODUCTS.map((p) => ({ ...p, active: 1, created_at: now })))
    .onConflict((oc) => oc.column('sku').doNothing())
    .execute();
  return true;
}
