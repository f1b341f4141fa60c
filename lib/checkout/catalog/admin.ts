import { getConfig } from '../../config';
import { getDb, nowIso } from '../../db';
import type { Product } from '../../db/schema';
import { parseYuanToFen } from '../../money';
import { SKU_RE } from '../kernel';

/* Product administration for the merchant: every product, active or not, and the checks on edits. */

/** The product after an edit, or why the edit was refused (messages in the merchant's language). */
export type ProductResult = { ok: true; product: Product } | { ok: false; code: 'BAD_INPUT' | 'NOT_FOUND' | 'EXISTS'; message: string };

/** A product form as the merchant filled it in (price in yuan text). */
export interface ProductInput {
  sku?: string;
  name: string;
  description: string;
  priceYuan: string;
}

/** The link a merchant shares: the checkout entry of docs/http-api.md. */
export function shopLink(sku: string): string {
  return `${getConfig().publicBaseUrl}/shop/${encodeURIComponent(sku)}`;
}

/** Every product, active first, for the merchant's product page. */
export async function listAllProducts(): Promise<Product[]> {
  const db = await getDb();
  return db.selectFrom('products').selectAll().orderBy('active', 'desc').orderBy('created_at').orderBy('sku').execute();
}

/** One product by sku, active or not. */
export async function getProduct(sku: string): Promise<Product | undefined> {
  if (!SKU_RE.test(sku)) return undefined;
  const db = await getDb();
  return db.selectFrom('products').selectAll().where('sku', '=', sku).executeTakeFirst();
}

type Checked = { ok: true; name: string; description: string; priceFen: number } | { ok: false; code: 'BAD_INPUT'; message: string };

function check(input: ProductInput, en: boolean): Checked {
  const name = (input.name ?? '').trim();
  const description = (input.description ?? '').trim();
  // WeChat's body field is 127 bytes and carries the name: keep it well inside.
  if (!name || Buffer.byteLength(name, 'utf8') > 96) {
    return { ok: false, code: 'BAD_INPUT', message: en ? 'Name: 1 to 96 bytes (about 32 Chinese characters)' : '名称：1 到 96 字节（约 32 个汉字）' };
  }
  if (description.length > 500) return { ok: false, code: 'BAD_INPUT', message: en ? 'Description: at most 500 characters' : '描述最多 500 个字符' };
  const price = parseYuanToFen(input.priceYuan ?? '', en ? 'en' : 'zh');
  if (!price.ok) return { ok: false, code: 'BAD_INPUT', message: (en ? 'Price: ' : '价格：') + price.message };
  return { ok: true, name, description, priceFen: price.fen };
}

/** Adds a product; a taken sku is refused (EXISTS), never overwritten. */
export async function createProduct(input: ProductInput, en = false): Promise<ProductResult> {
  const sku = (input.sku ?? '').trim();
  if (!SKU_RE.test(sku)) {
    return { ok: false, code: 'BAD_INPUT', message: en ? 'SKU: 1-64 letters, digits, "-" or "_" (it becomes the shop link)' : 'SKU：1-64 个字母、数字、“-”或“_”（用于店铺链接）' };
  }
  const c = check(input, en);
  if (!c.ok) return c;
  const db = await getDb();
  const product: Product = { sku, name: c.name, description: c.description, price_fen: c.priceFen, active: 1, created_at: nowIso() };
  const inserted = await db.insertInto('products').values(product).onConflict((oc) => oc.column('sku').doNothing()).executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
    return { ok: false, code: 'EXISTS', message: en ? `SKU "${sku}" already exists` : `SKU “${sku}”已存在` };
  }
  return { ok: true, product };
}

/** Edits name, description and price. Orders keep their own snapshot of name and amount. */
export async function updateProduct(sku: string, input: ProductInput, en = false): Promise<ProductResult> {
  const c = check(input, en);
  if (!c.ok) return c;
  const db = await getDb();
  const r = await db.updateTable('products').set({ name: c.name, description: c.description, price_fen: c.priceFen }).where('sku', '=', sku).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return { ok: false, code: 'NOT_FOUND', message: en ? `No product "${sku}"` : `没有商品“${sku}”` };
  return { ok: true, product: (await getProduct(sku))! };
}

/** Deactivated products vanish from / and /shop/[sku]; their orders stay. */
export async function setProductActive(sku: string, active: boolean, en = false): Promise<ProductResult> {
  const db = await getDb();
  const r = await db.updateTable('products').set({ active: active ? 1 : 0 }).where('sku', '=', sku).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return { ok: false, code: 'NOT_FOUND', message: en ? `No product "${sku}"` : `没有商品“${sku}”` };
  return { ok: true, product: (await getProduct(sku))! };
}
