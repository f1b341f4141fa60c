import { getConfig } from '../../config';
import { nowIso } from '../../db';
import type { Order, TradeType } from '../../db/schema';
import type { PayMode } from '../buyer';
import { getActiveProduct } from '../catalog';
import { attemptSignType } from '../gateway';
import { newOrderId } from '../kernel';
import { findOpenOrder } from './attempts';
import { withBuyerLock } from './buyer-lock';
import { checkOrderRate, noteOrderStart, ORDER_RATE_WINDOW_MS, type OrderRateVerdict } from './order-rate';
import { type AttemptWanted, carryOut, type Plan, reuseOrWait, type StartPaymentResult, windowOpen, writeClaim } from './placing';
import { loggedStart, type StartTrace, tracePlan } from './start-log';

export type { StartPaymentErrorCode, StartPaymentResult } from './placing';

/** A shop-link payment: the product and quantity, and who is paying how. */
export interface StartPaymentInput {
  sku: string;
  quantity: number;
  /** session.buyerId: owner of the order. */
  buyerId: string;
  /** session.openid: required for JSAPI. */
  openid?: string;
  mode: PayMode;
  /** spbill_create_ip (lib/checkout/buyer buyerIp); also what the per-address order limit counts. */
  clientIp: string;
  /** The order the pay panel is showing, when it already has one (pay again, fresh QR). */
  orderId?: string;
}

/** The most units one order may hold. */
export const MAX_QUANTITY = 99;
/** WeChat's body limit is 127; bytes or characters is unsettled, so count UTF-8 bytes. */
export const BODY_MAX_BYTES = 127;

/** Cuts text to at most `maxBytes` UTF-8 bytes on a code point boundary (never half a character). */
export function truncateUtf8(text: string, maxBytes: number = BODY_MAX_BYTES): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out;
}

const PAID_LIKE = new Set(['paid', 'partially_refunded', 'refunded']);

const rateLimited = (v: Exclude<OrderRateVerdict, { ok: true }>): StartPaymentResult => ({
  ok: false,
  code: 'RATE_LIMITED',
  message: `too many new orders from this ${v.scope === 'buyer' ? 'buyer' : 'address'} (${v.limit} per ${ORDER_RATE_WINDOW_MS / 60_000} minutes); try again in ${v.retryAfterSec} s`,
  retryAfterSec: v.retryAfterSec,
});

/**
 * Starts (or resumes) a payment for the buyer: picks their open order for this sku and quantity or
 * makes one, reuses an open unexpired attempt of the same trade type without calling WeChat, otherwise
 * places a unifiedorder with a fresh out_trade_no. Deciding is serialized per buyer + sku (see
 * withBuyerLock) and writes a claim (./attempts.ts), so a double tap, even across
 * instances, yields one order and one unifiedorder. The amount always comes from the catalog.
 * Making a NEW order is rate-limited per buyer and per client address (./order-rate.ts): past the
 * limit the answer is RATE_LIMITED and nothing is written; resuming an existing order never is. A
 * unifiedorder that got no answer (WeChat may hold the trade) is kept and re-submitted unchanged on the
 * next tap, so one attempt is one WeChat trade (./attempts.ts, ./placing.ts).
 * A shop order's payment window is ORDER_TTL_MINUTES from its creation (orders.expires_at); an order
 * whose window is (nearly) over is not resumed, a new one is made instead.
 */
export function startPayment(input: StartPaymentInput, now: number = Date.now()): Promise<StartPaymentResult> {
  const fields = { sku: input.sku, quantity: input.quantity, mode: input.mode, openid: input.openid };
  return loggedStart(fields, (trace) => decideAndPlace(input, now, trace));
}

/**
 * Where WeChat's H5 cashier sends a shop buyer back: the order page, marked so it checks with the
 * server instead of assuming payment (docs/checkout.md, "H5 payment").
 */
export function shopReturnUrl(orderId: string): string {
  return `${getConfig().publicBaseUrl}/orders/${encodeURIComponent(orderId)}?from=h5`;
}

async function decideAndPlace(input: StartPaymentInput, now: number, trace: StartTrace): Promise<StartPaymentResult> {
  const { sku, quantity, buyerId, openid, mode } = input;
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
    return { ok: false, code: 'INVALID_INPUT', message: `quantity must be an integer from 1 to ${MAX_QUANTITY}` };
  }
  if (!buyerId) return { ok: false, code: 'INVALID_INPUT', message: 'no buyer id' };
  const product = await getActiveProduct(sku);
  if (!product) return { ok: false, code: 'NOT_FOUND', message: `no product "${sku}" for sale` };
  if (mode === 'jsapi' && !openid) return { ok: false, code: 'OAUTH_REQUIRED', message: 'JSAPI needs the buyer openid' };
  const tradeType: TradeType = mode === 'jsapi' ? 'JSAPI' : mode === 'mweb' ? 'MWEB' : 'NATIVE';
  const amountFen = product.price_fen * quantity;
  const config = getConfig();
  const want: AttemptWanted = { tradeType, openid: openid ?? null, signType: attemptSignType(), clientIp: input.clientIp, now };
  // The order's name snapshot is the body: a re-submission of an unanswered attempt must send the very same one.
  let description = product.name;

  const plan = await withBuyerLock(`${buyerId}:${sku}`, async (db): Promise<Plan> => {
    let order: Order | undefined;
    if (input.orderId) {
      const o = await db.selectFrom('orders').selectAll().where('id', '=', input.orderId).where('buyer_id', '=', buyerId).executeTakeFirst();
      if (o && PAID_LIKE.has(o.status)) return { kind: 'done', result: { ok: false, code: 'ALREADY_PAID', message: 'this order is already paid', orderId: o.id } };
      if (o && o.status === 'pending' && o.sku === sku && o.quantity === quantity && o.amount_fen === amountFen && windowOpen(o, now)) order = o;
    }
    order ??= await findOpenOrder(db, { buyerId, sku, quantity, amountFen, now, ttlMinutes: config.orderTtlMinutes });
    if (order && !windowOpen(order, now)) order = undefined;
    if (order) {
      description = order.name;
      const resumed = await reuseOrWait(db, order.id, want);
      if (resumed) return resumed;
    }
    if (!order) {
      const rate = await checkOrderRate(db, { buyerId, clientIp: input.clientIp, now }, config.orderRate);
      if (!rate.ok) return { kind: 'done', result: rateLimited(rate) };
    }
    const at = nowIso(now);
    const orderId = order?.id ?? newOrderId();
    const expiresAt = order ? order.expires_at : nowIso(now + config.orderTtlMinutes * 60_000);
    // The lock holds a write transaction (./buyer-lock.ts): the order and its claim land together.
    if (!order) {
      await db.insertInto('orders').values({
        id: orderId, sku, name: product.name, quantity, amount_fen: amountFen, status: 'pending',
        buyer_openid: openid ?? null, buyer_id: buyerId, transaction_id: null, created_at: at, paid_at: null,
        updated_at: at, last_query_at: null, expires_at: expiresAt, origin: 'shop',
      }).execute();
      await noteOrderStart(db, { orderId, buyerId, clientIp: input.clientIp, now });
    } else if (openid && !order.buyer_openid) {
      await db.updateTable('orders').set({ buyer_openid: openid, updated_at: at }).where('id', '=', orderId).execute();
    }
    return writeClaim(db, { orderId, orderIsNew: !order, amountFen, orderExpiresAt: expiresAt, ttlMinutes: config.orderTtlMinutes }, want);
  });
  tracePlan(trace, plan);
  const details = { description: truncateUtf8(description), productId: sku, clientIp: input.clientIp, returnUrl: shopReturnUrl };
  return carryOut(plan, details, amountFen, now, (fallback) =>
    decideAndPlace(fallback ? { ...input, mode: 'native', orderId: fallback.nativeFor } : input, Date.now(), trace));
}
