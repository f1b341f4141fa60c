import { getDb } from '../../db';
import type { AttemptStatus, EventOutcome, EventSource, RefundStatus, TradeType } from '../../db/schema';
import { refundableFen, refundsUnavailable } from '../refunds';
import { type MerchantOrderRow, toRow } from './list';

/** Everything the merchant's order page and GET /api/merchant/orders/[id] show about one order. */
export interface MerchantOrderDetail {
  order: MerchantOrderRow & {
    /** What a merchant refund may still take back from the order's payment. */
    refundableFen: number;
    /** How many attempts were paid: more than one is a duplicate payment. */
    paidAttempts: number;
    updatedAt: string;
  };
  attempts: Array<{
    outTradeNo: string;
    tradeType: TradeType;
    amountFen: number;
    status: AttemptStatus;
    transactionId: string | null;
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
  /** Oldest first: the story of how the order got to its state. */
  events: Array<{ id: string; source: EventSource; outcome: EventOutcome; detail: string; at: string; outTradeNo: string | null; raw: string | null }>;
  /** Live mode without WECHATPAY_CERT_P12: refunds cannot be sent; says exactly what is missing. */
  refundBlocker: string | null;
}

/** One order with its attempts, refunds and timeline; undefined when there is no such order. */
export async function getMerchantOrder(orderId: string): Promise<MerchantOrderDetail | undefined> {
  if (typeof orderId !== 'string' || orderId.length === 0 || orderId.length > 64) return undefined;
  const db = await getDb();
  const order = await db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
  if (!order) return undefined;
  const [attempts, refunds, byOrder] = await Promise.all([
    db.selectFrom('payment_attempts').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute(),
    db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute(),
    db.selectFrom('payment_events').selectAll().where('order_id', '=', orderId).orderBy('at').limit(500).execute(),
  ]);
  // A notify refused before it could be tied to the order (bad amount, bad signature) is logged under its
  // out_trade_no only; the merchant needs to see those too.
  const otns = attempts.map((a) => a.out_trade_no);
  const byOtn = otns.length
    ? await db.selectFrom('payment_events').selectAll().where('out_trade_no', 'in', otns).where('order_id', 'is', null).orderBy('at').limit(500).execute()
    : [];
  const events = [...byOrder, ...byOtn].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : 1));

  // One rule for what is left to refund, the same one a refund request is checked against.
  const refundable = await refundableFen(db, order);

  const refundBlocker = refundsUnavailable();

  return {
    order: { ...toRow(order), refundableFen: refundable, paidAttempts: attempts.filter((a) => a.status === 'paid').length, updatedAt: order.updated_at },
    attempts: attempts.map((a) => ({
      outTradeNo: a.out_trade_no,
      tradeType: a.trade_type,
      amountFen: Number(a.amount_fen),
      status: a.status,
      transactionId: a.transaction_id,
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
    refundBlocker,
  };
}
