import { getDb } from '../../db';
import type { Product } from '../../db/schema';
import { SKU_RE } from '../kernel';

/** Active products, cheapest first, for the shop home. */
export async function listActiveProducts(): Promise<Product[]> {
  const db = await getDb();
  return db.selectFrom('products').selectAll().where('active', '=', 1).orderBy('price_fen').orderBy('sku').execute();
}

/** One active product by sku, or undefined (unknown and deactivated products are not for sale). */
export async function getActiveProduct(sku: string): Promise<Product | undefined> {
  if (!SKU_RE.test(sku)) return undefined;
  const db = await getDb();
  return db.selectFrom('products').selectAll().where('sku', '=', sku).where('active', '=', 1).executeTakeFirst();
}
