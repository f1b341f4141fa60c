/**
 * WeChat Pay API v2, framework-free: signing (sign.ts), XML (xml.ts), the merchant client (client.ts),
 * notifies (notify.ts), getBrandWCPayRequest params (jsapi.ts), refund-notify crypto (crypto.ts),
 * UTC+8 times (time.ts), bills (bill.ts), typed errors (errors.ts) and wire types (types.ts).
 * Facts and vectors: docs/wechatpay-v2.md. Imports nothing from next/*, lib/checkout, lib/db or lib/sandbox.
 */
export * from './bill';
export * from './client';
export * from './crypto';
export * from './errors';
export * from './jsapi';
export * from './notify';
export * from './sign';
export * from './time';
export type * from './types';
export { buildXml, parseXml, MAX_XML_BYTES } from './xml';
export type { FetchLike } from './transport';
