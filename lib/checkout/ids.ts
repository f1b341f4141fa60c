import { randomBytes } from 'node:crypto';
import { formatWxTime } from '../wechatpay/time';

const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function randomAlnum(n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[bytes[i] % ALNUM.length];
  return s;
}

/** Order ids are unguessable (they appear in buyer URLs; ownership is still checked). */
export function newOrderId(): string {
  return `o_${randomBytes(12).toString('base64url')}`;
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

/** Ids for rows nobody types: payment events, sandbox records. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(10).toString('hex')}`;
}
