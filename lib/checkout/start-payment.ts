import type { Kysely } from 'kysely';
import { getConfig } from '../config';
import { type Database, nowIso } from '../db';
import type { Order, PaymentAttempt, TradeType } from '../db/schema';
import { WechatPayError } from '../wechatpay/errors';
import { jsapiParams } from '../wechatpay/jsapi';
import { formatWxTime } from '../wechatpay/time';
import type { PayMode } from './buyer';
import { withBuyerLock } from './buyer-lock';
import { getActiveProduct } from './catalog';
import { newOrderId, newOutTradeNo } from './ids';
import { getPayClient } from './pay-client';
import { qrSvg } from './qr';

export interface StartPaymentInput {
  sku: string;
  quantity: number;
  /** session.buyerId: owner of the order. */
  buyerId: string;
  /** session.openid: required for JSAPI. */
  openid?: string;
  mode: PayMode;
  /** spbill_create_ip (lib/checkout/buyer.ts buyerIp). */
  clientIp: string;
  /** The order the pay panel is showing, when it already has one (pay again, fresh QR). */
  orderId?: string;
}

/** getBrandWCPayRequest's parameters, case as WeChat wants them. */
export interface JsapiPayParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: string;
  paySign: string;
}

export type StartPaymentErrorCode = 'INVALID_INPUT' | 'NOT_FOUND' | 'OAUTH_REQUIRED' | 'ALREADY_PAID' | 'UPSTREAM' | 'INTERNAL';

export type StartPaymentResult =
  | { ok: true; orderId: string; kind: 'jsapi'; params: JsapiPayParams; amountFen: number }
  | { ok: true; orderId: string; kind: 'native'; qrSvg: string; expiresAt: string; amountFen: number }
  | { ok: false; code: StartPaymentErrorCode; message: string; orderId?: string };

export const MAX_QUANTITY = 99;
/** WeChat's body limit is 127; bytes or characters is unsettled, so count UTF-8 bytes. */
const BODY_MAX_BYTES = 127;
/** prepay_id and code_url live 2 hours at WeChat whatever time_expire says. */
const PREPAY_LIFETIME_MS = 2 * 60 * 60 * 1000;
/** Do not hand out a prepay that dies while the buyer is still looking at the sheet or QR. */
const REUSE_MARGIN_MS = 30 * 1000;

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

/**
 * Starts (or resumes) a payment for the buyer: picks their open order for this sku and quantity or
 * makes one, reuses an open unexpired attempt of the same trade type without calling WeChat, otherwise
 * places a unifiedorder with a fresh out_trade_no and stores the order and attempt only once WeChat
 * said yes. Serialized per buyer + sku, so a double tap yields one order and one unifiedorder.
 * The amount always comes from the catalog.
 */
export async function startPayment(input: StartPaymentInput, now: number = Date.now()): Promise<StartPaymentResult> {
  const { sku, quantity, buyerId, openid, mode } = input;
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
    return { ok: false, code: 'INVALID_INPUT', message: `quantity must be an integer from 1 to ${MAX_QUANTITY}` };
  }
  if (!buyerId) return { ok: false, code: 'INVALID_INPUT', message: 'no buyer id' };
  const product = await getActiveProduct(sku);
  if (!product) return { ok: false, code: 'NOT_FOUND', message: `no product "${sku}" for sale` };
  if (mode === 'jsapi' && !openid) return { ok: false, code: 'OAUTH_REQUIRED', message: 'JSAPI needs the buyer openid' };
  const tradeType: TradeType = mode === 'jsapi' ? 'JSAPI' : 'NATIVE';
  const amountFen = product.price_fen * quantity;
  const config = getConfig();

  return withBuyerLock(`${buyerId}:${sku}`, async (db) => {
    let order: Order | undefined;
    if (input.orderId) {
      const o = await db.selectFrom('orders').selectAll().where('id', '=', input.orderId).where('buyer_id', '=', buyerId).executeTakeFirst();
      if (o && PAID_LIKE.has(o.status)) return { ok: false, code: 'ALREADY_PAID', message: 'this order is already paid', orderId: o.id };
      if (o && o.status === 'pending' && o.sku === sku && o.quantity === quantity && o.amount_fen === amountFen) order = o;
    }
    order ??= await findOpenOrder(db, buyerId, sku, quantity, amountFen, now, config.orderTtlMinutes);

    if (order) {
      const reusable = await findReusableAttempt(db, order.id, tradeType, openid ?? null, config.signType, now);
      if (reusable) return present(order.id, reusable, amountFen);
    }

    const outTradeNo = newOutTradeNo(now);
    const expiresMs = now + config.orderTtlMinutes * 60_000;
    let prepayId: string | undefined;
    let codeUrl: string | undefined;
    try {
      const res = await getPayClient().unifiedOrder({
        body: truncateUtf8(product.name),
        out_trade_no: outTradeNo,
        total_fee: amountFen,
        spbill_create_ip: input.clientIp,
        notify_url: `${config.publicBaseUrl}/api/wechatpay/notify`,
        trade_type: tradeType,
        openid: tradeType === 'JSAPI' ? openid : undefined,
        product_id: tradeType === 'NATIVE' ? sku : undefined,
        time_start: formatWxTime(now),
        time_expire: formatWxTime(expiresMs),
      });
      prepayId = res.prepay_id || undefined;
      codeUrl = res.code_url || undefined;
    } catch (e) {
      if (e instanceof WechatPayError) {
        console.warn(`unifiedorder ${outTradeNo} failed: ${e.code} ${e.message}`);
        return { ok: false, code: 'UPSTREAM', message: `WeChat Pay did not accept the order (${e.code})` };
      }
      throw e;
    }
    if ((tradeType === 'JSAPI' && !prepayId) || (tradeType === 'NATIVE' && !codeUrl)) {
      return { ok: false, code: 'UPSTREAM', message: 'WeChat Pay answered without a prepay_id/code_url' };
    }

    const at = nowIso(now);
    const orderId = order?.id ?? newOrderId();
    const attempt: PaymentAttempt = {
      out_trade_no: outTradeNo, order_id: orderId, trade_type: tradeType, amount_fen: amountFen, openid: openid ?? null,
      sign_type: config.signType, prepay_id: prepayId ?? null, code_url: codeUrl ?? null, expires_at: nowIso(expiresMs),
      status: 'open', transaction_id: null, created_at: at, updated_at: at,
    };
    // Order and attempt land together, after WeChat accepted: a failure above leaves no row behind.
    await inTransaction(db, async (trx) => {
      if (!order) {
        await trx.insertInto('orders').values({
          id: orderId, sku, name: product.name, quantity, amount_fen: amountFen, status: 'pending',
          buyer_openid: openid ?? null, buyer_id: buyerId, transaction_id: null, created_at: at, paid_at: null,
          updated_at: at, last_query_at: null,
        }).execute();
      } else if (openid && !order.buyer_openid) {
        await trx.updateTable('orders').set({ buyer_openid: openid, updated_at: at }).where('id', '=', orderId).execute();
      }
      await trx.insertInto('payment_attempts').values(attempt).execute();
    });
    return present(orderId, attempt, amountFen);
  });
}

async function inTransaction(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<void>): Promise<void> {
  if (db.isTransaction) return fn(db);
  await db.transaction().execute(fn);
}

/** The buyer's still-payable order for this sku and quantity, made within the payment window. */
async function findOpenOrder(db: Kysely<Database>, buyerId: string, sku: string, quantity: number, amountFen: number, now: number, ttlMinutes: number) {
  return db
    .selectFrom('orders')
    .selectAll()
    .where('buyer_id', '=', buyerId)
    .where('sku', '=', sku)
    .where('status', '=', 'pending')
    .where('quantity', '=', quantity)
    .where('amount_fen', '=', amountFen)
    .where('created_at', '>', nowIso(now - ttlMinutes * 60_000))
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}

/** An open attempt of the same trade type (and openid, and sign type) that WeChat will still honour. */
async function findReusableAttempt(db: Kysely<Database>, orderId: string, tradeType: TradeType, openid: string | null, signType: string, now: number) {
  let q = db
    .selectFrom('payment_attempts')
    .selectAll()
    .where('order_id', '=', orderId)
    .where('trade_type', '=', tradeType)
    .where('status', '=', 'open')
    .where('sign_type', '=', signType)
    .where('expires_at', '>', nowIso(now + REUSE_MARGIN_MS))
    .where('created_at', '>', nowIso(now - PREPAY_LIFETIME_MS + REUSE_MARGIN_MS));
  q = tradeType === 'JSAPI' ? q.where('openid', '=', openid).where('prepay_id', 'is not', null) : q.where('code_url', 'is not', null);
  return q.orderBy('created_at', 'desc').executeTakeFirst();
}

async function present(orderId: string, a: PaymentAttempt, amountFen: number): Promise<StartPaymentResult> {
  const config = getConfig();
  if (a.trade_type === 'JSAPI') {
    // A fresh timestamp and nonce each time; the prepay_id is the stored one (no new unifiedorder).
    const params = jsapiParams({ appId: config.appId, prepayId: a.prepay_id!, apiKey: config.apiKey, signType: config.signType });
    return { ok: true, orderId, kind: 'jsapi', params, amountFen };
  }
  return { ok: true, orderId, kind: 'native', qrSvg: await qrSvg(a.code_url!), expiresAt: a.expires_at, amountFen };
}
