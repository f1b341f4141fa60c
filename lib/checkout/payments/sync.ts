import { log } from '../../log';
import { getDb, nowIso } from '../../db';
import type { ClosedReason, OrderStatus } from '../../db/schema';
import { CLOSE_MIN_AGE_MS, closeAtWechat, QueryNotSentError, queryPayment, WechatPayApiError, WechatPayError, type QueryOptions } from '../gateway';
import { formatChinaTime } from '../../china-time';
import { recordEvent, writeTransaction } from '../kernel';
import { followRefund, submitRefund } from '../refunds';
import { applyPayment, type PaymentOutcome } from './apply';
import { emitSessionEvent } from '../webhooks';

/**
 * WeChat hears an orderquery about one order at most this often from status polls and the reconciler,
 * however many pollers and instances.
 */
export const POLL_QUERY_GAP_MS = 3000;

/**
 * A claimed orderquery is handed to the HTTP client within this long of its claim, or not sent at all
 * (QueryOptions.sendBy). A claim is a timestamp; the query follows it after a turn of the event loop,
 * which on a saturated server can take seconds.
 */
export const CLAIM_SEND_MS = 500;

/**
 * Room for what the send window does not cover: the socket write after the hand-over, and the clocks
 * of several instances, which stamp and compare claims each with its own (NTP keeps them far closer).
 */
export const CLAIM_SLACK_MS = 500;

/**
 * How long after a claim the next one may come (4 s): two queries that left within their windows are
 * then over POLL_QUERY_GAP_MS apart.
 */
export const CLAIM_GAP_MS = POLL_QUERY_GAP_MS + CLAIM_SEND_MS + CLAIM_SLACK_MS;

/** What WeChat said about an attempt (trade_state) and what applying it did. */
export type ConfirmResult = { state: string; outcome?: PaymentOutcome['outcome'] };

/**
 * orderquery for one attempt, then the same transition a notify would apply. A paid-then-refunded
 * trade (`REFUND`) was still paid. Trades WeChat closed or failed close the attempt locally: PAYERROR is
 * final at WeChat (its out_trade_no cannot be ordered again), so the attempt is `failed` and the buyer's
 * next tap places a fresh one. USERPAYING (the buyer is still typing the password) leaves it open.
 * `opts.once`: the orderquery is sent once, without the client's retries (a claimed query, see
 * confirmPendingOrder); a failure is thrown as it is.
 */
export async function confirmAttempt(outTradeNo: string, source: 'query' | 'merchant' = 'query', opts: QueryOptions = {}): Promise<ConfirmResult> {
  let q;
  try {
    q = await queryPayment(outTradeNo, opts);
  } catch (e) {
    if (e instanceof WechatPayApiError && e.code === 'ORDERNOTEXIST') {
      // unifiedorder never got through for this attempt: nothing can be paid on it.
      await markAttempt(outTradeNo, 'closed', 'query', 'ORDERNOTEXIST: WeChat has no such trade; attempt closed');
      return { state: 'ORDERNOTEXIST' };
    }
    throw e;
  }
  if ((q.state === 'SUCCESS' || q.state === 'REFUND') && q.transactionId && q.totalFee !== undefined) {
    const r = await applyPayment({
      source, outTradeNo, transactionId: q.transactionId, totalFee: q.totalFee, cashFee: q.cashFee, openid: q.openid, paidAt: q.paidAt,
      feeType: q.feeType, cashFeeType: q.cashFeeType, raw: q.raw,
    });
    if (r.outcome === 'duplicate_payment' && r.refund) await submitRefund(r.refund);
    return { state: q.state, outcome: r.outcome };
  }
  if (q.state === 'CLOSED' || q.state === 'REVOKED') await markAttempt(outTradeNo, 'closed', 'query', `${q.state}: ${q.stateDesc ?? 'closed at WeChat'}`);
  if (q.state === 'PAYERROR') await markAttempt(outTradeNo, 'failed', 'query', `PAYERROR: ${q.stateDesc ?? 'payment failed'}`);
  return { state: q.state };
}

async function markAttempt(outTradeNo: string, status: 'closed' | 'failed', source: 'query' | 'close', detail: string): Promise<boolean> {
  return writeTransaction(async (trx) => {
    const a = await trx.selectFrom('payment_attempts').select('order_id').where('out_trade_no', '=', outTradeNo).executeTakeFirst();
    const upd = await trx.updateTable('payment_attempts').set({ status, updated_at: nowIso() })
      .where('out_trade_no', '=', outTradeNo).where('status', '=', 'open').executeTakeFirst();
    if (Number(upd.numUpdatedRows) === 0) return false;
    await recordEvent(trx, { orderId: a?.order_id, outTradeNo, source, outcome: 'applied', detail });
    return true;
  });
}

/**
 * closeorder at WeChat, then the attempt closed here; ORDERPAID means it was paid after all.
 * `too_early`: WeChat does not close a trade in its first 5 minutes; the attempt stays open (and the
 * reconciler, which closes expired and stray attempts, asks again on a later sweep).
 */
export async function closeAttempt(outTradeNo: string): Promise<'closed' | 'paid' | 'too_early'> {
  const r = await closeAtWechat(outTradeNo);
  if (r === 'too_early') return r;
  if (r === 'paid') {
    // With the client's retries: WeChat has just said ORDERPAID, and this query is what applies that
    // payment now; it claims no poll window, and a close happens once per attempt, not per poll.
    await confirmAttempt(outTradeNo, 'query');
    return 'paid';
  }
  await markAttempt(outTradeNo, 'closed', 'close', r === 'closed' ? 'closed at WeChat (closeorder)' : `WeChat: ${r}; attempt closed`);
  return 'closed';
}

/**
 * Closes a pending order whose attempts are all closed; never one that got paid meanwhile. `reason`
 * is recorded (orders.closed_reason) so the sessions API can tell `expired` from `closed`. With
 * `onlyAfterWindow`, an order whose own payment window (orders.expires_at) is still open stays pending:
 * one expired QR of a checkout session that runs for days must not end the session.
 */
export async function closeOrderIfUnpaid(orderId: string, why: string, reason: ClosedReason, onlyAfterWindow = false): Promise<boolean> {
  return writeTransaction(async (trx) => {
    let q = trx.updateTable('orders').set({ status: 'closed', closed_reason: reason, updated_at: nowIso() })
      .where('id', '=', orderId).where('status', '=', 'pending')
      .where(({ not, exists, selectFrom }) => not(exists(
        selectFrom('payment_attempts').select('out_trade_no').where('order_id', '=', orderId).where('status', 'in', ['open', 'paid']),
      )));
    if (onlyAfterWindow) q = q.where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '<=', nowIso())]));
    const upd = await q.executeTakeFirst();
    if (Number(upd.numUpdatedRows) === 0) return false;
    await recordEvent(trx, { orderId, source: 'close', outcome: 'applied', detail: `order closed: ${why}` });
    await emitSessionEvent(trx, reason === 'expired' ? 'checkout.session.expired' : 'checkout.session.closed', orderId);
    return true;
  });
}

/** What a merchant is told when WeChat will not close a trade yet: when to try again, and when it ends anyway. */
function tooEarly(a: { out_trade_no: string; created_at: string; expires_at: string }): string {
  const after = formatChinaTime(new Date(Date.parse(a.created_at) + CLOSE_MIN_AGE_MS).toISOString());
  return `WeChat does not close a payment in its first 5 minutes (订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟): ${a.out_trade_no} can be closed after ${after} (UTC+8), and it closes by itself when its window ends at ${formatChinaTime(a.expires_at)}`;
}

/** A merchant close: the order's status after it, or why it could not be closed. */
export type CloseResult = { ok: true; status: OrderStatus } | { ok: false; code: string; message: string };

/**
 * A merchant's or an API caller's close: closeorder at WeChat for every open attempt, then the order
 * closed (ORDERPAID: paid instead). `by` is recorded as the closed reason.
 */
export async function closeUnpaidOrder(orderId: string, by: 'merchant' | 'api' = 'merchant'): Promise<CloseResult> {
  const db = await getDb();
  const order = await db.selectFrom('orders').select(['status', 'expires_at']).where('id', '=', orderId).executeTakeFirst();
  if (!order) return { ok: false, code: 'NOT_FOUND', message: `no order ${orderId}` };
  if (order.status === 'closed') return { ok: true, status: 'closed' };
  if (order.status !== 'pending') return { ok: false, code: 'NOT_PENDING', message: `order is ${order.status}; only a pending order can be closed` };
  const open = await db.selectFrom('payment_attempts').select(['out_trade_no', 'created_at', 'expires_at']).where('order_id', '=', orderId).where('status', '=', 'open').execute();
  for (const a of open) {
    try {
      const r = await closeAttempt(a.out_trade_no);
      if (r === 'paid') {
        return { ok: false, code: 'ORDER_PAID', message: `WeChat says ${a.out_trade_no} was paid: the order is now marked paid, not closed` };
      }
      if (r === 'too_early') return { ok: false, code: 'CLOSE_TOO_EARLY', message: `${tooEarly(a)}. The order stays pending until then` };
    } catch (e) {
      const code = e instanceof WechatPayError ? e.code : 'ERROR';
      // A young trade: WeChat's 5-minute rule is the likely cause of an unexplained failure, so say it.
      const young = Date.now() - Date.parse(a.created_at) < CLOSE_MIN_AGE_MS ? `; ${tooEarly(a)}` : '';
      return { ok: false, code, message: `closeorder for ${a.out_trade_no} failed: ${(e as Error).message}; the order stays pending${young}` };
    }
  }
  // A session whose window already ended was expired, whoever closes it now.
  const ended = order.expires_at !== null && Date.parse(order.expires_at) <= Date.now();
  await closeOrderIfUnpaid(orderId, `${by === 'api' ? 'closed through the API' : 'closed by the merchant'}${ended ? ' (its payment window had ended)' : ''}`, ended ? 'expired' : by);
  const after = await db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirstOrThrow();
  return { ok: true, status: after.status };
}

/**
 * For status polling: at most one orderquery round per order per POLL_QUERY_GAP_MS at WeChat across
 * every poller and instance, claimed by a conditional update of orders.last_query_at (see
 * CLAIM_SEND_MS). Returns the status. Each claimed orderquery is sent once (no client retry): a retry
 * would be a second orderquery for the order inside the window it claimed (and after a 5 s timeout,
 * one that outlives it and overlaps the next claim's). The round's queries (one per open attempt, read
 * before the claim) go out together, within CLAIM_SEND_MS of the claim or not at all. A failure is
 * logged; the next claim asks again.
 */
export async function confirmPendingOrder(orderId: string): Promise<OrderStatus | null> {
  const db = await getDb();
  // Read before the claim: only the claim's own UPDATE stands between its timestamp and the send.
  const open = await db.selectFrom('payment_attempts').select('out_trade_no').where('order_id', '=', orderId).where('status', '=', 'open').execute();
  const now = Date.now();
  const claim = await db.updateTable('orders').set({ last_query_at: nowIso(now) })
    .where('id', '=', orderId).where('status', '=', 'pending')
    .where((eb) => eb.or([eb('last_query_at', 'is', null), eb('last_query_at', '<', nowIso(now - CLAIM_GAP_MS))]))
    .executeTakeFirst();
  if (Number(claim.numUpdatedRows) > 0) {
    await Promise.all(open.map((a) => confirmAttempt(a.out_trade_no, 'query', { once: true, sendBy: now + CLAIM_SEND_MS }).catch((e) => notSentOrFailed(e, { event: 'order_poll', order_id: orderId, out_trade_no: a.out_trade_no }))));
  }
  const o = await db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirst();
  return o?.status ?? null;
}

/**
 * Logs a claimed query that failed (warn), or that was not sent because its send window had passed
 * (info: a busy server, not a fault; nothing reached WeChat and the next claim asks).
 */
function notSentOrFailed(e: unknown, fields: Record<string, unknown>): void {
  if (e instanceof QueryNotSentError) log().info({ ...fields, err: e }, 'orderquery not sent: past its claim\'s send window');
  else log().warn({ ...fields, err: e }, 'orderquery, or applying its answer, failed');
}

/** A merchant sync: one note per attempt or refund asked about. */
export type SyncResult = { ok: true; notes: string[] } | { ok: false; code: string; message: string };

/**
 * Merchant "sync with WeChat": orderquery every unpaid attempt, refundquery every processing refund and
 * every abnormal one (CHANGE): after the merchant settles an abnormal refund in the WeChat Pay portal,
 * this is how its new state arrives. The reconciler's sweep leaves abnormal refunds alone: only the
 * merchant's action can change them.
 * Its orderqueries keep the client's retries: a sync claims no poll window, it is one press by a person
 * who waits for the answer, and a transient failure retried at once gives them one instead of an error.
 */
export async function syncOrder(orderId: string, source: 'merchant' | 'query' = 'merchant'): Promise<SyncResult> {
  const db = await getDb();
  const order = await db.selectFrom('orders').select('id').where('id', '=', orderId).executeTakeFirst();
  if (!order) return { ok: false, code: 'NOT_FOUND', message: `no order ${orderId}` };
  const notes: string[] = [];
  const attempts = await db.selectFrom('payment_attempts').select(['out_trade_no', 'status']).where('order_id', '=', orderId).where('status', '!=', 'paid').execute();
  for (const a of attempts) {
    try {
      const r = await confirmAttempt(a.out_trade_no, source);
      notes.push(`${a.out_trade_no}: ${r.state}${r.outcome ? ` (${r.outcome})` : ''}`);
    } catch (e) {
      notes.push(`${a.out_trade_no}: query failed (${(e as Error).message})`);
    }
  }
  const refunds = await db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).where('status', 'in', ['processing', 'abnormal']).execute();
  for (const r of refunds) {
    notes.push(await followRefund(r).catch((e) => `${r.out_refund_no}: refundquery failed (${(e as Error).message})`));
  }
  await recordEvent(db, { orderId, source: source === 'merchant' ? 'merchant' : 'query', outcome: 'applied', detail: `synced with WeChat: ${notes.join('; ') || 'nothing to check'}` });
  return { ok: true, notes };
}
