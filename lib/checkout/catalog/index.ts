/**
 * The catalog: products for sale (the shop home and shop links), the merchant's product editing, and
 * share posters of a product's shop link. Amounts are integer fen, read from here, never from a client.
 */
export { getActiveProduct, listActiveProducts } from './products';
export { createProduct, getProduct, listAllProducts, setProductActive, shopLink, updateProduct, type ProductInput, type ProductResult } from './admin';
export { qrPng, qrPosterSvg } from './posters';
export type { Product } from '../../db/schema';
