import { randomBytes } from 'node:crypto';
import { formatWxTime } from '../../wechatpay/time';

const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function randomAlnum(n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[bytes[i] % ALNUM.length];
  return s;
}

/** A product sku: it is also the shop link's path segment, so only URL-safe characters. */
export const SKU_RE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * An order (checkout session) id as newOrderId makes them, `cs_...`, or as it made them before
 * migration 0006, `o_...`. Checked before any lookup, so junk never reaches the database.
 */
export const ORDER_ID_RE = /^(cs|o)_[A-Za-z0-9_-]{8,64}$/;

/**
 * Order ids are checkout session ids: `cs_` + 144 random bits in base64url (27 characters). They are
 * unguessable because an API session's pay URL (/pay/{id}) is a bearer link, like Stripe's checkout
 * URL; short enough (<= 32) to double as a Native unifiedorder's product_id.
 */
export function newOrderId(): string {
  return `cs_${randomBytes(18).toString('base64url')}`;
}

/**
 * out_trade_no: `P` + yyyyMMddHHmmss (UTC+8) + 12 random characters = 27 of WeChat's allowed
 * `[0-9A-Za-z_-|*]`, 6-32 long. Fresh per payment attempt: WeChat refuses a trade_type switch on one
 * out_trade_no (`201 商户订单号重复`).
 */
export function newOutTradeNo(now = Date.now()): string {
  return `P${formatWxTime(now)}${randomAlnum(12)}`;
}

/** out_refund_no (<= 64): one per refund, reused verbatim when retrying that refund. */
export function newOutRefundNo(now = Date.now()): string {
  return `R${formatWxTime(now)}${randomAlnum(12)}`;
}

/** Ids for rows nobody types: payment events. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(10).toString('hex')}`;
}
