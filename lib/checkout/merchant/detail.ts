import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import { getDb } from '../../db';
import type { AttemptStatus, Database, EventOutcome, EventSource, PaymentEventsTable, RefundStatus, TradeType } from '../../db/schema';
import { refundableFen, refundsUnavailable } from '../refunds';
import { type MerchantOrderRow, toRow } from './list';

/** Everything the merchant's order page and GET /api/merchant/orders/[id] show about one order. */
export interface MerchantOrderDetail {
  order: MerchantOrderRow & {
    /** What a merchant refund may still take back from the order's payment. */
    refundableFen: number;
    /** How many attempts were paid: more than one is a duplicate payment. */
    paidAttempts: number;
    /**
     * What the buyer paid of the order's payment (WeChat's cash_fee), and what a coupon paid
     * (amountFen less it): null when unpaid, or when WeChat did not say (attempts paid before it was kept).
     */
    buyerPaidFen: number | null;
    couponFen: number | null;
    updatedAt: string;
  };
  attempts: Array<{
    outTradeNo: string;
    tradeType: TradeType;
    amountFen: number;
    status: AttemptStatus;
    transactionId: string | null;
    /** cash_fee of a paid attempt: what the buyer paid (less than amountFen with a coupon); null otherwise. */
    cashFen: number | null;
    openid: string | null;
    prepayId: string | null;
    codeUrl: string | null;
    expiresAt: string;
    createdAt: string;
    updatedAt: string;
  }>;
  refunds: Array<{
    outRefundNo: string;
    outTradeNo: string;
    amountFen: number;
    reason: string;
    origin: string;
    status: RefundStatus;
    refundId: string | null;
    detail: string | null;
    createdAt: string;
    updatedAt: string;
  }>;
  /**
   * Oldest first: the story of how the order got to its state. Every event that changed something
   * (outcome `applied`) or came from a refund or the merchant, plus the newest TIMELINE_RECENT of the
   * rest (rejected and duplicate notifies, errors), so nobody can push the ones that matter out of view.
   */
  events: Array<{ id: string; source: EventSource; outcome: EventOutcome; detail: string; at: string; outTradeNo: string | null; raw: string | null }>;
  /** How many older rejected/duplicate/error events of this order are not in `events`. */
  eventsOmitted: number;
  /** Live mode without WECHATPAY_CERT_P12: refunds cannot be sent; says exactly what is missing. */
  refundBlocker: string | null;
}

/** Of the events that changed nothing (rejected, duplicate, error), the timeline shows the newest this many. */
export const TIMELINE_RECENT = 200;
/**
 * Events that changed something or came from a refund or the merchant are all shown, up to this many
 * (newest first): a safety bound on the page no real order comes near, since each one is a state change,
 * a merchant action or a refund WeChat signed.
 */
export const TIMELINE_KEPT_MAX = 1000;

type EventRow = { id: string; source: EventSource; outcome: EventOutcome; detail: string; at: string; out_trade_no: string | null; raw: string | null };
type Scope = (eb: ExpressionBuilder<Database, 'payment_events'>) => Expression<SqlBool>;

const newestFirst = (a: EventRow, b: EventRow) => (a.at > b.at ? -1 : a.at < b.at ? 1 : a.id > b.id ? -1 : 1);

/**
 * The order's timeline: its own events, and events logged under one of its out_trade_nos before they
 * could be tied to it. Each scope is queried on its own so each uses its index (order_id, at) or
 * (out_trade_no, at); the kept and the recent sets are then merged newest first and cut.
 */
async function timeline(db: Kysely<Database>, orderId: string, otns: string[]): Promise<{ events: EventRow[]; omitted: number }> {
  const scopes: Scope[] = [(eb) => eb('order_id', '=', orderId)];
  if (otns.length) scopes.push((eb) => eb.and([eb('order_id', 'is', null), eb('out_trade_no', 'in', otns)]));
  const kept = (eb: ExpressionBuilder<Database, 'payment_events'>) =>
    eb.or([eb('outcome', '=', 'applied'), eb('source', 'in', ['refund', 'refund_notify', 'merchant'] satisfies PaymentEventsTable['source'][])]);
  const cols = ['id', 'source', 'outcome', 'detail', 'at', 'out_trade_no', 'raw'] as const;
  const parts = await Promise.all(
    scopes.map(async (scope) => {
      const [k, r, n] = await Promise.all([
        db.selectFrom('payment_events').select(cols).where((eb) => eb.and([scope(eb), kept(eb)])).orderBy('at', 'desc').orderBy('id', 'desc').limit(TIMELINE_KEPT_MAX).execute(),
        db.selectFrom('payment_events').select(cols).where((eb) => eb.and([scope(eb), eb.not(kept(eb))])).orderBy('at', 'desc').orderBy('id', 'desc').limit(TIMELINE_RECENT).execute(),
        db.selectFrom('payment_events').select((eb) => eb.fn.countAll().as('n')).where((eb) => scope(eb)).executeTakeFirstOrThrow(),
      ]);
      return { k, r, n: Number(n.n) };
    }),
  );
  const keptRows = parts.flatMap((p) => p.k).sort(newestFirst).slice(0, TIMELINE_KEPT_MAX);
  const recentRows = parts.flatMap((p) => p.r).sort(newestFirst).slice(0, TIMELINE_RECENT);
  const total = parts.reduce((sum, p) => sum + p.n, 0);
  const events = [...keptRows, ...recentRows].sort(newestFirst).reverse();
  return { events, omitted: Math.max(0, total - events.length) };
}

/** One order with its attempts, refunds and timeline; undefined when there is no such order. */
export async function getMerchantOrder(orderId: string): Promise<MerchantOrderDetail | undefined> {
  if (typeof orderId !== 'string' || orderId.length === 0 || orderId.length > 64) return undefined;
  const db = await getDb();
  const order = await db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
  if (!order) return undefined;
  const [attempts, refunds] = await Promise.all([
    db.selectFrom('payment_attempts').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute(),
    db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute(),
  ]);
  // A notify refused before it could be tied to the order is logged under its out_trade_no only; the
  // merchant needs to see those too.
  const { events, omitted } = await timeline(db, orderId, attempts.map((a) => a.out_trade_no));

  // One rule for what is left to refund, the same one a refund request is checked against.
  const refundable = await refundableFen(db, order);

  const refundBlocker = refundsUnavailable();

  // The payment the order counts is the one its transaction_id names (a duplicate one is refunded).
  const paid = attempts.find((a) => a.status === 'paid' && a.transaction_id === order.transaction_id);
  const buyerPaidFen = paid && paid.cash_fen !== null ? Number(paid.cash_fen) : null;
  return {
    order: {
      ...toRow(order), refundableFen: refundable, paidAttempts: attempts.filter((a) => a.status === 'paid').length, updatedAt: order.updated_at,
      buyerPaidFen, couponFen: buyerPaidFen === null || !paid ? null : Number(paid.amount_fen) - buyerPaidFen,
    },
    attempts: attempts.map((a) => ({
      outTradeNo: a.out_trade_no,
      tradeType: a.trade_type,
      amountFen: Number(a.amount_fen),
      status: a.status,
      transactionId: a.transaction_id,
      cashFen: a.cash_fen === null ? null : Number(a.cash_fen),
      openid: a.openid,
      prepayId: a.prepay_id,
      codeUrl: a.code_url,
      expiresAt: a.expires_at,
      createdAt: a.created_at,
      updatedAt: a.updated_at,
    })),
    refunds: refunds.map((r) => ({
      outRefundNo: r.out_refund_no,
      outTradeNo: r.out_trade_no,
      amountFen: Number(r.amount_fen),
      reason: r.reason,
      origin: r.origin,
      status: r.status,
      refundId: r.refund_id,
      detail: r.detail,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    })),
    events: events.map((e) => ({ id: e.id, source: e.source, outcome: e.outcome, detail: e.detail, at: e.at, outTradeNo: e.out_trade_no, raw: e.raw })),
    eventsOmitted: omitted,
    refundBlocker,
  };
}
