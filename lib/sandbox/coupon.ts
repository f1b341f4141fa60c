import { randomInt } from 'node:crypto';
import type { SandboxOrdersTable as SandboxOrder } from './tables';
import type { WxFields } from '../wechatpay/sign';

/**
 * A coupon the simulated buyer pays with (代金券): WeChat pays `fee` fen of total_fee, the buyer the
 * rest (cash_fee). CASH is a 充值代金券 (funded by whoever issued it, settled to the merchant in full);
 * NO_CASH a 免充值券 (the merchant's own discount: the merchant is settled total_fee minus it).
 */
export interface Coupon {
  fee: number;
  type: 'CASH' | 'NO_CASH';
}

/** The simulator's coupon options as JSON or form fields: `coupon_fee` (fen) and `coupon_type`. */
export type CouponInput = { coupon_fee?: unknown; coupon_type?: unknown };

/**
 * Reads the coupon options; none when coupon_fee is absent or empty (and then coupon_type must be too).
 * Whether it fits the order (less than total_fee) is payOrder's check, which knows the order.
 */
export function readCoupon(b: CouponInput): { ok: true; coupon?: Coupon } | { ok: false; message: string } {
  const fee = b.coupon_fee === '' ? undefined : b.coupon_fee;
  const type = b.coupon_type === '' ? undefined : b.coupon_type;
  if (fee === undefined) return type === undefined ? { ok: true } : { ok: false, message: 'coupon_type needs coupon_fee' };
  const n = typeof fee === 'string' && /^\d{1,10}$/.test(fee) ? Number(fee) : fee;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) return { ok: false, message: 'coupon_fee must be a positive integer (fen)' };
  if (type !== undefined && type !== 'CASH' && type !== 'NO_CASH') return { ok: false, message: 'coupon_type must be CASH or NO_CASH' };
  return { ok: true, coupon: { fee: n, type: (type ?? 'CASH') as Coupon['type'] } };
}

/** 11 digits, the shape of the coupon ids merchants see in notifies (e.g. 32747576270). */
export function newCouponId(): string {
  return String(randomInt(10_000_000_000, 99_999_999_999));
}

/** What the buyer paid (cash_fee / amount.payer_total): total_fee less the coupon. */
export function cashFee(o: SandboxOrder): number {
  return o.total_fee - (o.coupon_fee ?? 0);
}

/**
 * The v2 coupon fields of a paid order's notify and orderquery, per WeChat's 支付结果通知 page
 * (https://pay.weixin.qq.com/doc/v2/merchant/4011937248): coupon_fee, coupon_count, and per coupon
 * coupon_type_$n / coupon_id_$n / coupon_fee_$n numbered from 0; settlement_total_fee (应结订单金额 =
 * total_fee less the 免充值券) only when a NO_CASH coupon was used. Nothing without a coupon.
 */
export function couponFields(o: SandboxOrder): WxFields {
  if (!o.coupon_fee) return {};
  return {
    ...(o.coupon_type === 'NO_CASH' ? { settlement_total_fee: String(o.total_fee - o.coupon_fee) } : {}),
    coupon_fee: String(o.coupon_fee),
    coupon_count: '1',
    coupon_type_0: o.coupon_type ?? 'CASH',
    coupon_id_0: o.coupon_id ?? undefined,
    coupon_fee_0: String(o.coupon_fee),
  };
}

/**
 * v3's promotion_detail for a paid order with a coupon (WeChat's 支付成功回调 / 查询订单 pages, API v3):
 * one entry, type CASH or NOCASH (v3's spelling of v2's NO_CASH), scope GLOBAL, funded by WeChat
 * for CASH and by the merchant for NOCASH.
 */
export function promotionDetail(o: SandboxOrder): Array<Record<string, unknown>> | undefined {
  if (!o.coupon_fee) return undefined;
  const noCash = o.coupon_type === 'NO_CASH';
  return [{
    coupon_id: o.coupon_id, name: noCash ? '商户优惠' : '微信支付代金券', scope: 'GLOBAL', type: noCash ? 'NOCASH' : 'CASH',
    amount: o.coupon_fee, stock_id: '0', wechatpay_contribute: noCash ? 0 : o.coupon_fee, merchant_contribute: noCash ? o.coupon_fee : 0,
    other_contribute: 0, currency: 'CNY',
  }];
}
