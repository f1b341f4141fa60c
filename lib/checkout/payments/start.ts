import { getConfig } from '../../config';
import { nowIso } from '../../db';
import { log } from '../../log';
import { metrics } from '../../metrics';
import type { Order, PaymentAttempt, TradeType } from '../../db/schema';
import type { PayMode } from '../buyer';
import { getActiveProduct } from '../catalog';
import { jsapiPayParams, type JsapiPayParams, outcomeUnknown, placeOrder, type SignType, WechatPayError } from '../gateway';
import { newOrderId, newOutTradeNo } from '../kernel';
import { answerUnanswered, awaitClaim, dropClaim, findClaim, findOpenOrder, findReusableAttempt, findUnanswered, keepUnanswered, openClaim, retireUnanswered } from './attempts';
import { withBuyerLock } from './buyer-lock';
import { checkOrderRate, noteOrderStart, ORDER_RATE_WINDOW_MS, type OrderRateVerdict } from './order-rate';
import { qrSvg } from './qr';
import { closeAttempt } from './sync';

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

/** Why startPayment refused; the page maps each code to a message in the buyer's language. */
export type StartPaymentErrorCode = 'INVALID_INPUT' | 'NOT_FOUND' | 'OAUTH_REQUIRED' | 'ALREADY_PAID' | 'RATE_LIMITED' | 'UPSTREAM' | 'INTERNAL';

/** What the pay panel gets: the JSAPI parameters or the Native QR, or a typed refusal. */
export type StartPaymentResult =
  | { ok: true; orderId: string; kind: 'jsapi'; params: JsapiPayParams; amountFen: number }
  | { ok: true; orderId: string; kind: 'native'; qrSvg: string; expiresAt: string; amountFen: number }
  | { ok: false; code: StartPaymentErrorCode; message: string; orderId?: string; retryAfterSec?: number };

/** The most units one order may hold. */
export const MAX_QUANTITY = 99;
/** WeChat's body limit is 127; bytes or characters is unsettled, so count UTF-8 bytes. */
const BODY_MAX_BYTES = 127;

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

type Plan =
  | { kind: 'done'; result: StartPaymentResult }
  | { kind: 'reuse'; orderId: string; attempt: PaymentAttempt }
  | { kind: 'wait'; orderId: string; outTradeNo: string }
  | { kind: 'resubmit'; orderId: string; attempt: PaymentAttempt; description: string }
  | { kind: 'place'; orderId: string; orderIsNew: boolean; attempt: PaymentAttempt; description: string };

const upstream = (detail: string): StartPaymentResult => ({ ok: false, code: 'UPSTREAM', message: `WeChat Pay did not accept the order (${detail})` });
const noAnswer = (detail: string): StartPaymentResult => ({
  ok: false, code: 'UPSTREAM', message: `WeChat Pay did not answer (${detail}); it may have placed the order: paying again re-submits the same trade`,
});

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
 * next tap, so one attempt is one WeChat trade (./attempts.ts).
 */
export async function startPayment(input: StartPaymentInput, now: number = Date.now()): Promise<StartPaymentResult> {
  const started = performance.now();
  const trace: Trace = {};
  let r: StartPaymentResult;
  try {
    r = await decideAndPlace(input, now, trace);
  } catch (e) {
    log().error({ event: 'start_payment', sku: input.sku, order_id: input.orderId, out_trade_no: trace.outTradeNo, outcome: 'error', err: e }, 'startPayment failed');
    metrics().startPayments.inc({ outcome: 'error' });
    throw e;
  }
  const seconds = (performance.now() - started) / 1000;
  const outcome = r.ok ? r.kind : r.code;
  metrics().startPayments.inc({ outcome });
  metrics().startPaymentDuration.observe(seconds);
  const line = {
    // The openid is masked by the logger (lib/log): enough to match a line to the order page, not an identity.
    event: 'start_payment', sku: input.sku, quantity: input.quantity, mode: input.mode, openid: input.openid, order_id: r.orderId ?? null, out_trade_no: trace.outTradeNo ?? null,
    step: trace.step, amount_fen: r.ok ? r.amountFen : undefined, outcome, duration_ms: Math.round(seconds * 10_000) / 10,
  };
  if (r.ok || r.code === 'INVALID_INPUT' || r.code === 'NOT_FOUND' || r.code === 'OAUTH_REQUIRED' || r.code === 'ALREADY_PAID') log().info(line, 'startPayment');
  else log().warn(line, r.message);
  return r;
}

/** Which attempt a startPayment ended on and how (reuse, wait, resubmit, place), for its log line. */
interface Trace {
  outTradeNo?: string;
  step?: Plan['kind'];
}

async function decideAndPlace(input: StartPaymentInput, now: number, trace: Trace): Promise<StartPaymentResult> {
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
  const key = { tradeType, openid: openid ?? null, signType: config.signType, now };

  const plan = await withBuyerLock(`${buyerId}:${sku}`, async (db): Promise<Plan> => {
    let order: Order | undefined;
    if (input.orderId) {
      const o = await db.selectFrom('orders').selectAll().where('id', '=', input.orderId).where('buyer_id', '=', buyerId).executeTakeFirst();
      if (o && PAID_LIKE.has(o.status)) return { kind: 'done', result: { ok: false, code: 'ALREADY_PAID', message: 'this order is already paid', orderId: o.id } };
      if (o && o.status === 'pending' && o.sku === sku && o.quantity === quantity && o.amount_fen === amountFen) order = o;
    }
    order ??= await findOpenOrder(db, { buyerId, sku, quantity, amountFen, now, ttlMinutes: config.orderTtlMinutes });
    if (order) {
      const reusable = await findReusableAttempt(db, { ...key, orderId: order.id });
      if (reusable) return { kind: 'reuse', orderId: order.id, attempt: reusable };
      const claim = await findClaim(db, { ...key, orderId: order.id });
      if (claim) return { kind: 'wait', orderId: order.id, outTradeNo: claim.out_trade_no };
      const unanswered = await findUnanswered(db, { ...key, orderId: order.id });
      if (unanswered) return { kind: 'resubmit', orderId: order.id, attempt: unanswered, description: order.name };
    }
    if (!order) {
      const rate = await checkOrderRate(db, { buyerId, clientIp: input.clientIp, now }, config.orderRate);
      if (!rate.ok) return { kind: 'done', result: rateLimited(rate) };
    }
    const at = nowIso(now);
    const orderId = order?.id ?? newOrderId();
    const attempt: PaymentAttempt = {
      out_trade_no: newOutTradeNo(now), order_id: orderId, trade_type: tradeType, amount_fen: amountFen, openid: openid ?? null,
      sign_type: config.signType, prepay_id: null, code_url: null, expires_at: nowIso(now + config.orderTtlMinutes * 60_000),
      status: 'failed', transaction_id: null, created_at: at, updated_at: at,
    };
    // The lock holds a write transaction (./buyer-lock.ts): the order and its claim land together.
    if (!order) {
      await db.insertInto('orders').values({
        id: orderId, sku, name: product.name, quantity, amount_fen: amountFen, status: 'pending',
        buyer_openid: openid ?? null, buyer_id: buyerId, transaction_id: null, created_at: at, paid_at: null,
        updated_at: at, last_query_at: null,
      }).execute();
      await noteOrderStart(db, { orderId, buyerId, clientIp: input.clientIp, now });
    } else if (openid && !order.buyer_openid) {
      await db.updateTable('orders').set({ buyer_openid: openid, updated_at: at }).where('id', '=', orderId).execute();
    }
    await db.insertInto('payment_attempts').values(attempt).execute();
    // The order's name snapshot is the body: a re-submission of this attempt must send the very same one.
    return { kind: 'place', orderId, orderIsNew: !order, attempt, description: order?.name ?? product.name };
  });

  trace.step = plan.kind;
  if (plan.kind === 'wait') trace.outTradeNo = plan.outTradeNo;
  else if (plan.kind !== 'done') trace.outTradeNo = plan.attempt.out_trade_no;
  switch (plan.kind) {
    case 'done':
      return plan.result;
    case 'reuse':
      return present(plan.orderId, plan.attempt, amountFen);
    case 'wait': {
      const a = await awaitClaim(plan.outTradeNo);
      return a ? present(plan.orderId, a, amountFen) : upstream('a concurrent attempt failed');
    }
    case 'resubmit':
      return resubmit(plan, input, trace);
    case 'place':
      return place(plan, input, now);
  }
}

/** unifiedorder for a claimed attempt, with no lock or transaction held while WeChat answers. */
async function place(plan: Extract<Plan, { kind: 'place' }>, input: StartPaymentInput, now: number): Promise<StartPaymentResult> {
  const a = plan.attempt;
  let res;
  try {
    res = await placeOrder(unifiedOrderOf(a, plan.description, input, now));
  } catch (e) {
    if (outcomeUnknown(e)) {
      // WeChat may hold this trade: keep it (./attempts.ts), so the next tap re-submits it instead of placing another.
      await keepUnanswered(a.out_trade_no);
      log().warn({ event: 'unifiedorder', order_id: plan.orderId, out_trade_no: a.out_trade_no, outcome: 'no_answer', code: (e as WechatPayError).code }, 'unifiedorder got no answer; kept for re-submission');
      return noAnswer((e as WechatPayError).code);
    }
    await dropClaim(a.out_trade_no, plan.orderId, plan.orderIsNew);
    if (e instanceof WechatPayError) {
      log().warn({ event: 'unifiedorder', order_id: plan.orderId, out_trade_no: a.out_trade_no, outcome: 'refused', code: e.code, detail: e.message }, 'unifiedorder failed');
      return upstream(e.code);
    }
    throw e;
  }
  const opened = await openClaim(a.out_trade_no, res.prepayId, res.codeUrl);
  return present(plan.orderId, opened, a.amount_fen);
}

/** The unifiedorder of an attempt; every field comes from the stored attempt and order, so a re-submission is identical. */
function unifiedOrderOf(a: PaymentAttempt, description: string, input: StartPaymentInput, startMs: number) {
  return {
    outTradeNo: a.out_trade_no, tradeType: a.trade_type, amountFen: a.amount_fen, description: truncateUtf8(description),
    clientIp: input.clientIp, openid: a.openid, productId: input.sku, startMs, expiresAt: a.expires_at,
  };
}

/**
 * The same unifiedorder again for an attempt that got no answer: WeChat answers an identical
 * re-submission with the trade it already holds (or places it now). Still no answer: it stays
 * unanswered. A refusal (e.g. ORDERCLOSED, or fields that differ because the buyer's IP changed): it is
 * closed at WeChat, or here when WeChat cannot be asked, and the buyer gets a fresh trade.
 */
async function resubmit(plan: Extract<Plan, { kind: 'resubmit' }>, input: StartPaymentInput, trace: Trace): Promise<StartPaymentResult> {
  const a = plan.attempt;
  let res;
  try {
    res = await placeOrder(unifiedOrderOf(a, plan.description, input, Date.parse(a.created_at)));
  } catch (e) {
    if (!(e instanceof WechatPayError)) throw e;
    if (outcomeUnknown(e)) return noAnswer(e.code);
    log().warn({ event: 'unifiedorder', order_id: plan.orderId, out_trade_no: a.out_trade_no, outcome: 'resubmit_refused', code: e.code, detail: e.message }, 're-submitted unifiedorder refused; closing it');
    const closed = await closeAttempt(a.out_trade_no).catch((c) => {
      log().warn({ event: 'closeorder', order_id: plan.orderId, out_trade_no: a.out_trade_no, err: c }, 'closeorder failed');
      return undefined;
    });
    if (closed === 'paid') return { ok: false, code: 'ALREADY_PAID', message: 'this order is already paid', orderId: plan.orderId };
    if (closed === undefined) await retireUnanswered(a.out_trade_no);
    return decideAndPlace(input, Date.now(), trace);
  }
  const opened = await answerUnanswered(a.out_trade_no, res.prepayId, res.codeUrl);
  if (opened.status !== 'open' || !(opened.prepay_id || opened.code_url)) return upstream(`attempt ${a.out_trade_no} is ${opened.status}`);
  return present(plan.orderId, opened, a.amount_fen);
}

async function present(orderId: string, a: PaymentAttempt, amountFen: number): Promise<StartPaymentResult> {
  if (a.trade_type === 'JSAPI') {
    // A fresh timestamp and nonce each time; the prepay_id is the stored one (no new unifiedorder).
    const params = jsapiPayParams(a.prepay_id!, a.sign_type as SignType);
    return { ok: true, orderId, kind: 'jsapi', params, amountFen };
  }
  return { ok: true, orderId, kind: 'native', qrSvg: await qrSvg(a.code_url!), expiresAt: a.expires_at, amountFen };
}
