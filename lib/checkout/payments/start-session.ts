import { getConfig } from '../../config';
import type { TradeType } from '../../db/schema';
import type { PayMode } from '../buyer';
import { attemptSignType } from '../gateway';
import { withBuyerLock } from './buyer-lock';
import { type AttemptWanted, carryOut, type Plan, reuseOrWait, type StartPaymentResult, windowOpen, writeClaim } from './placing';
import { loggedStart, type StartTrace, tracePlan } from './start-log';
import { truncateUtf8 } from './start';

/** Paying an existing checkout session at /pay/{id}: which one, and who is paying how. */
export interface StartSessionPaymentInput {
  orderId: string;
  /** session.openid: required for JSAPI. */
  openid?: string;
  mode: PayMode;
  /** spbill_create_ip (lib/checkout/buyer buyerIp). */
  clientIp: string;
}

const PAID_LIKE = new Set(['paid', 'partially_refunded', 'refunded']);

/**
 * Starts (or resumes) paying an existing order, typically an API checkout session: the amount and the
 * description are the session's, never the client's. The same attempt machinery as a shop link
 * (./placing.ts): an open attempt of the same trade type is reused without calling WeChat, a concurrent
 * claim is waited for, otherwise one unifiedorder; the decision is serialized per order (in-process and,
 * on PostgreSQL, by an advisory lock), so a double tap, or two buyers opening the same link, place one
 * unifiedorder per trade type. No order is made here, so the order-creation rate limit does not apply.
 * A session whose window is (nearly) over, or that was closed, cannot be paid.
 */
export function startSessionPayment(input: StartSessionPaymentInput, now: number = Date.now()): Promise<StartPaymentResult> {
  return loggedStart({ session_id: input.orderId, mode: input.mode, openid: input.openid }, (trace) => decideAndPlace(input, now, trace));
}

async function decideAndPlace(input: StartSessionPaymentInput, now: number, trace: StartTrace): Promise<StartPaymentResult> {
  if (input.mode === 'jsapi' && !input.openid) return { ok: false, code: 'OAUTH_REQUIRED', message: 'JSAPI needs the buyer openid' };
  const tradeType: TradeType = input.mode === 'jsapi' ? 'JSAPI' : input.mode === 'mweb' ? 'MWEB' : 'NATIVE';
  const config = getConfig();
  const want: AttemptWanted = { tradeType, openid: input.openid ?? null, signType: attemptSignType(), clientIp: input.clientIp, now };
  let description = '';
  let amountFen = 0;

  const plan = await withBuyerLock(`order:${input.orderId}`, async (db): Promise<Plan> => {
    const o = await db.selectFrom('orders').selectAll().where('id', '=', input.orderId).executeTakeFirst();
    if (!o) return { kind: 'done', result: { ok: false, code: 'NOT_FOUND', message: `no checkout session ${input.orderId}` } };
    if (PAID_LIKE.has(o.status)) return { kind: 'done', result: { ok: false, code: 'ALREADY_PAID', message: 'this checkout session is already paid', orderId: o.id } };
    if (o.status === 'closed') {
      const code = o.closed_reason === 'expired' ? 'EXPIRED' : 'CLOSED';
      return { kind: 'done', result: { ok: false, code, message: `this checkout session is ${code === 'EXPIRED' ? 'expired' : 'closed'}`, orderId: o.id } };
    }
    if (!windowOpen(o, now)) return { kind: 'done', result: { ok: false, code: 'EXPIRED', message: 'this checkout session has expired', orderId: o.id } };
    description = truncateUtf8(o.name);
    amountFen = Number(o.amount_fen);
    const resumed = await reuseOrWait(db, o.id, want);
    if (resumed) return resumed;
    return writeClaim(db, { orderId: o.id, orderIsNew: false, amountFen, orderExpiresAt: o.expires_at, ttlMinutes: config.orderTtlMinutes }, want);
  });
  // product_id (Native, <= 32 characters): the session id, 27 characters.
  tracePlan(trace, plan);
  const details = { description, productId: input.orderId.slice(0, 32), clientIp: input.clientIp, returnUrl: sessionReturnUrl };
  return carryOut(plan, details, amountFen, now, (fallback) => decideAndPlace(fallback ? { ...input, mode: 'native' } : input, Date.now(), trace));
}

/** Where WeChat's H5 cashier sends a session's buyer back: its pay page, marked to check with the server. */
export function sessionReturnUrl(sessionId: string): string {
  return `${getConfig().publicBaseUrl}/pay/${encodeURIComponent(sessionId)}?from=h5`;
}
