import type { Kysely } from 'kysely';
import { getConfig, MIN_ORDER_TTL_MINUTES } from '../../config';
import { type Database, nowIso } from '../../db';
import type { Order, PaymentAttempt, TradeType } from '../../db/schema';
import { type AttemptSignType, jsapiPayParams, type JsapiPayParams, MWEB_URL_TTL_MS, noAuth, outcomeUnknown, placeOrder, WechatPayError, WechatPayRequestError } from '../gateway';
import { newOutTradeNo } from '../kernel';
import { answerUnanswered, awaitClaim, dropClaim, findClaim, findReusableAttempt, findUnanswered, keepUnanswered, openClaim, retireUnanswered } from './attempts';
import { log } from '../../log';
import { qrSvg } from './qr';
import { closeAttempt } from './sync';
import { noteMwebRefused } from './capabilities';

/*
 * The attempt machinery both ways of paying share (a shop link's startPayment and a checkout session's
 * startSessionPayment): inside the caller's lock, reuse an open attempt or wait for a claim or write a
 * new claim; then, with no lock held, unifiedorder for a claim and the JSAPI parameters or the QR.
 */

/** Why starting a payment was refused; the pages map each code to a message in the buyer's language. */
export type StartPaymentErrorCode =
  | 'INVALID_INPUT' | 'NOT_FOUND' | 'OAUTH_REQUIRED' | 'ALREADY_PAID' | 'EXPIRED' | 'CLOSED' | 'RATE_LIMITED' | 'UPSTREAM' | 'INTERNAL';

/**
 * What the pay panel gets: the JSAPI parameters, the Native QR, or WeChat's H5 cashier URL to send a
 * phone browser to (`payUrl`: mweb_url with our return page as redirect_url, dead at `expiresAt`), or
 * a typed refusal. `h5Refused` on a QR: this tap asked for H5 and WeChat answered NO_AUTH, so the buyer
 * gets today's open-in-WeChat advice and the QR on the same tap.
 */
export type StartPaymentResult =
  | { ok: true; orderId: string; kind: 'jsapi'; params: JsapiPayParams; amountFen: number }
  | { ok: true; orderId: string; kind: 'native'; qrSvg: string; expiresAt: string; amountFen: number; h5Refused?: boolean }
  | { ok: true; orderId: string; kind: 'mweb'; payUrl: string; expiresAt: string; amountFen: number }
  | { ok: false; code: StartPaymentErrorCode; message: string; orderId?: string; retryAfterSec?: number };

/**
 * An attempt needs at least this much of its order's payment window left: WeChat refuses a time_expire
 * under 5 minutes away (time_expire时间过短，刷卡至少1分钟，其他5分钟; docs/wechatpay-v2.md), plus a
 * minute for clock skew, as ORDER_TTL_MINUTES's floor (MIN_ORDER_TTL_MINUTES).
 */
export const MIN_ATTEMPT_WINDOW_MS = MIN_ORDER_TTL_MINUTES * 60_000;

/** What the decision under the lock came to. */
export type Plan =
  | { kind: 'done'; result: StartPaymentResult }
  | { kind: 'reuse'; orderId: string; attempt: PaymentAttempt }
  | { kind: 'wait'; orderId: string; outTradeNo: string }
  | { kind: 'resubmit'; orderId: string; attempt: PaymentAttempt }
  | { kind: 'place'; orderId: string; orderIsNew: boolean; attempt: PaymentAttempt };

/** Which attempt a buyer needs: trade type, payer and the sign type WeChat will check the paySign with. */
export interface AttemptWanted {
  tradeType: TradeType;
  openid: string | null;
  signType: string;
  /** The buyer's IP (spbill_create_ip): an MWEB attempt is reused only for the same one (attempts.ts). */
  clientIp: string;
  now: number;
}

/** True while the order's window leaves room for an attempt (orders from before 0006 have no window). */
export function windowOpen(order: Pick<Order, 'expires_at'>, now: number): boolean {
  return order.expires_at === null || Date.parse(order.expires_at) - now >= MIN_ATTEMPT_WINDOW_MS;
}

/**
 * An existing order's open attempt to reuse, another call's claim to wait for, or an unanswered
 * unifiedorder to re-submit; null when a new claim is needed.
 */
export async function reuseOrWait(db: Kysely<Database>, orderId: string, want: AttemptWanted): Promise<Plan | null> {
  const reusable = await findReusableAttempt(db, { ...want, orderId });
  if (reusable) return { kind: 'reuse', orderId, attempt: reusable };
  const claim = await findClaim(db, { ...want, orderId });
  if (claim) return { kind: 'wait', orderId, outTradeNo: claim.out_trade_no };
  const unanswered = await findUnanswered(db, { ...want, orderId });
  if (unanswered) return { kind: 'resubmit', orderId, attempt: unanswered };
  return null;
}

/**
 * Writes a claim attempt (./attempts.ts) for the order, inside the caller's lock. Its window is the
 * order's (ORDER_TTL_MINUTES from now at most): no attempt outlives the session it pays for.
 */
export async function writeClaim(
  db: Kysely<Database>,
  o: { orderId: string; orderIsNew: boolean; amountFen: number; orderExpiresAt: string | null; ttlMinutes: number },
  want: AttemptWanted,
): Promise<Plan> {
  const { now } = want;
  const at = nowIso(now);
  const ttlEnd = now + o.ttlMinutes * 60_000;
  const end = o.orderExpiresAt === null ? ttlEnd : Math.min(ttlEnd, Date.parse(o.orderExpiresAt));
  const attempt: PaymentAttempt = {
    out_trade_no: newOutTradeNo(now), order_id: o.orderId, trade_type: want.tradeType, amount_fen: o.amountFen, openid: want.openid,
    sign_type: want.signType, prepay_id: null, code_url: null, expires_at: nowIso(end),
    status: 'failed', transaction_id: null, cash_fen: null, mweb_url: null, mweb_url_at: null, client_ip: want.clientIp, created_at: at, updated_at: at,
  };
  await db.insertInto('payment_attempts').values(attempt).execute();
  return { kind: 'place', orderId: o.orderId, orderIsNew: o.orderIsNew, attempt };
}

/** What unifiedorder needs beyond the claim: the body shown in WeChat, the Native product_id, the buyer's IP. */
export interface PlaceDetails {
  description: string;
  productId: string;
  clientIp: string;
  /** MWEB: the absolute URL of the page WeChat's H5 cashier sends the buyer back to (redirect_url). */
  returnUrl: (orderId: string) => string;
}

/**
 * Starts over from the caller's entry point: plainly (a refused re-submission), or as a QR for the same
 * order (`nativeFor`) when WeChat refused H5 payment (NO_AUTH) on this tap.
 */
export type Again = (fallback?: { nativeFor: string }) => Promise<StartPaymentResult>;

/**
 * Carries out a plan made under the lock: the stored attempt, another call's, a unifiedorder for our
 * claim, or the re-submission of an unanswered one. `again` starts over (the caller's own entry point)
 * once a re-submitted trade was refused and closed.
 */
export async function carryOut(plan: Plan, details: PlaceDetails, amountFen: number, now: number, again: Again): Promise<StartPaymentResult> {
  switch (plan.kind) {
    case 'done':
      return plan.result;
    case 'reuse':
      return present(plan.orderId, plan.attempt, amountFen, details);
    case 'wait': {
      const a = await awaitClaim(plan.outTradeNo);
      return a ? present(plan.orderId, a, amountFen, details) : upstream('a concurrent attempt failed');
    }
    case 'resubmit':
      return resubmit(plan, details, again);
    case 'place':
      return place(plan, details, now, again);
  }
}

/** A refusal from WeChat or the way to it. */
export const upstream = (detail: string): StartPaymentResult => ({ ok: false, code: 'UPSTREAM', message: `WeChat Pay did not accept the order (${detail})` });

const noAnswer = (detail: string): StartPaymentResult => ({
  ok: false, code: 'UPSTREAM', message: `WeChat Pay did not answer (${detail}); it may have placed the order: paying again re-submits the same trade`,
});

/** The unifiedorder of an attempt; every field comes from the stored attempt and order, so a re-submission is identical. */
function unifiedOrderOf(a: PaymentAttempt, details: PlaceDetails, startMs: number) {
  return {
    outTradeNo: a.out_trade_no, tradeType: a.trade_type, amountFen: a.amount_fen, description: details.description,
    clientIp: details.clientIp, openid: a.openid, productId: details.productId, startMs, expiresAt: a.expires_at,
  };
}

/** unifiedorder for a claimed attempt, with no lock or transaction held while WeChat answers. */
async function place(plan: Extract<Plan, { kind: 'place' }>, details: PlaceDetails, now: number, again: Again): Promise<StartPaymentResult> {
  const a = plan.attempt;
  let res;
  try {
    res = await placeOrder(unifiedOrderOf(a, details, now));
  } catch (e) {
    if (outcomeUnknown(e)) {
      // WeChat may hold this trade: keep it (./attempts.ts), so the next tap re-submits it instead of placing another.
      await keepUnanswered(a.out_trade_no);
      log().warn({ event: 'unifiedorder', out_trade_no: a.out_trade_no, order_id: plan.orderId, outcome: 'no_answer', code: (e as WechatPayError).code }, 'unifiedorder: no answer; kept for re-submission');
      return noAnswer((e as WechatPayError).code);
    }
    if (a.trade_type === 'MWEB' && noAuth(e)) {
      // No H5 permission: remembered only with WECHATPAY_MWEB=auto (`on` remembers nothing, as
      // docs/configuration.md says) and, on this same tap, the same order as a QR with the
      // open-in-WeChat advice. The order stays: the QR pays it.
      await dropClaim(a.out_trade_no, plan.orderId, false);
      if (getConfig().mweb === 'auto') await noteMwebRefused((e as WechatPayError).message);
      const r = await again({ nativeFor: plan.orderId });
      return r.ok && r.kind === 'native' ? { ...r, h5Refused: true } : r;
    }
    await dropClaim(a.out_trade_no, plan.orderId, plan.orderIsNew);
    if (e instanceof WechatPayError) {
      log().warn({ event: 'unifiedorder', out_trade_no: a.out_trade_no, order_id: plan.orderId, outcome: 'refused', code: e.code, err: e }, 'unifiedorder refused');
      // A refused request names its problem (return_msg): say it, it is what the operator must fix.
      return upstream(e instanceof WechatPayRequestError ? `${e.code}: ${e.returnMsg}` : e.code);
    }
    throw e;
  }
  const opened = await openClaim(a.out_trade_no, res);
  return present(plan.orderId, opened, a.amount_fen, details);
}

/**
 * The same unifiedorder again for an attempt that got no answer: WeChat answers an identical
 * re-submission with the trade it already holds (or places it now). Still no answer: it stays
 * unanswered. A refusal (e.g. ORDERCLOSED, or fields that differ because the buyer's IP changed): it is
 * closed at WeChat, or here when WeChat cannot be asked, and the buyer gets a fresh trade.
 */
async function resubmit(plan: Extract<Plan, { kind: 'resubmit' }>, details: PlaceDetails, again: Again): Promise<StartPaymentResult> {
  const a = plan.attempt;
  let res;
  try {
    res = await placeOrder(unifiedOrderOf(a, details, Date.parse(a.created_at)));
  } catch (e) {
    if (!(e instanceof WechatPayError)) throw e;
    if (outcomeUnknown(e)) return noAnswer(e.code);
    log().warn({ event: 'unifiedorder', out_trade_no: a.out_trade_no, order_id: plan.orderId, outcome: 'resubmit_refused', code: e.code, err: e }, 'unifiedorder re-submission refused; closing the trade');
    const closed = await closeAttempt(a.out_trade_no).catch((c) => {
      log().warn({ event: 'closeorder', out_trade_no: a.out_trade_no, order_id: plan.orderId, err: c }, 'closeorder of a refused re-submission failed');
      return undefined;
    });
    if (closed === 'paid') return { ok: false, code: 'ALREADY_PAID', message: 'this order is already paid', orderId: plan.orderId };
    // Not closed at WeChat (no answer, or too young to close): retire it here; its time_expire ends it there.
    if (closed === undefined || closed === 'too_early') await retireUnanswered(a.out_trade_no);
    return again();
  }
  const opened = await answerUnanswered(a.out_trade_no, res);
  if (opened.status !== 'open' || !(opened.prepay_id || opened.code_url || opened.mweb_url)) return upstream(`attempt ${a.out_trade_no} is ${opened.status}`);
  return present(plan.orderId, opened, a.amount_fen, details);
}

/**
 * WeChat's H5 cashier URL with our return page: "在MWEB_URL后拼接上redirect_url参数，来指定回调页面 ...
 * 需对redirect_url进行urlencode处理" (the H5 payment guide, https://pay.weixin.qq.com/wiki/doc/api/H5.php?chapter=15_4).
 */
export function mwebPayUrl(mwebUrl: string, returnUrl: string): string {
  return `${mwebUrl}${mwebUrl.includes('?') ? '&' : '?'}redirect_url=${encodeURIComponent(returnUrl)}`;
}

async function present(orderId: string, a: PaymentAttempt, amountFen: number, details: PlaceDetails): Promise<StartPaymentResult> {
  if (a.trade_type === 'MWEB') {
    const expiresAt = nowIso(Date.parse(a.mweb_url_at!) + MWEB_URL_TTL_MS);
    return { ok: true, orderId, kind: 'mweb', payUrl: mwebPayUrl(a.mweb_url!, details.returnUrl(orderId)), expiresAt, amountFen };
  }
  if (a.trade_type === 'JSAPI') {
    // A fresh timestamp and nonce each time; the prepay_id is the stored one (no new unifiedorder).
    const params = jsapiPayParams(a.prepay_id!, a.sign_type as AttemptSignType);
    return { ok: true, orderId, kind: 'jsapi', params, amountFen };
  }
  return { ok: true, orderId, kind: 'native', qrSvg: await qrSvg(a.code_url!), expiresAt: a.expires_at, amountFen };
}
