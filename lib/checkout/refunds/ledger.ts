import { type Kysely, sql } from 'kysely';
import { nowIso } from '../../db';
import { log } from '../../log';
import { metrics } from '../../metrics';
import type { Database, PaymentAttempt, Refund, RefundStatus } from '../../db/schema';
import type { RefundVerdict } from '../gateway';
import { type DbOrTrx, newOutRefundNo, recordEvent, writeTransaction } from '../kernel';
import { emitRefundEvent } from '../webhooks';

/**
 * Refund bookkeeping, all inside database transactions (no network here): reserving a refund against
 * what is left on one paid attempt, and applying WeChat's verdict exactly once.
 *
 * orders.refunded_fen counts only refunds of the order's own payment (origin `merchant`). A duplicate
 * payment's automatic refund (origin `duplicate`) gives back the buyer's SECOND payment: the order is
 * still paid once and must not look refunded, so those refunds live only in the refunds table (and the
 * order's duplicate_paid flag and timeline tell the merchant why).
 */

/** Who asked for a refund: the merchant (pages), an API call, or the automatic return of a duplicate payment. */
export type RefundOrigin = 'merchant' | 'api' | 'duplicate';

/** The reserved `processing` refund row, or why nothing was reserved. */
export type ReserveResult = { ok: true; refund: Refund } | { ok: false; code: string; message: string };

/** A refund to reserve against what is left on one paid attempt. */
export interface ReserveInput {
  orderId: string;
  amountFen: number;
  reason: string;
  origin: RefundOrigin;
  /** The paid attempt to refund; default: the order's own payment (the attempt holding orders.transaction_id). */
  outTradeNo?: string;
}

/**
 * THE rule for what may still be refunded: refunds take from one paid attempt (by default the order's
 * own payment, the attempt holding orders.transaction_id), and every refund of that attempt that has
 * not failed counts against it: processing, succeeded and abnormal alike. An abnormal refund (CHANGE)
 * already left the merchant's account; offering its amount again would pay the buyer twice once the
 * merchant settles it in the portal. Used to reserve a refund and to show the merchant what is left.
 */
async function refundTarget(db: DbOrTrx, order: { id: string; status: string; transaction_id: string | null }, outTradeNo?: string): Promise<{ ok: true; attempt: PaymentAttempt; leftFen: number } | { ok: false; code: string; message: string }> {
  let q = db.selectFrom('payment_attempts').selectAll().where('order_id', '=', order.id).where('status', '=', 'paid');
  if (outTradeNo) q = q.where('out_trade_no', '=', outTradeNo);
  else if (order.transaction_id) q = q.where('transaction_id', '=', order.transaction_id);
  else return { ok: false, code: 'NOT_PAID', message: `order ${order.id} is ${order.status}: nothing was paid to refund` };
  const attempt = await q.executeTakeFirst();
  if (!attempt) {
    return { ok: false, code: 'NOT_PAID', message: outTradeNo ? `attempt ${outTradeNo} of order ${order.id} is not paid` : `order ${order.id} has no paid attempt` };
  }
  const taken = await db
    .selectFrom('refunds')
    .select(sql<number>`coalesce(sum(amount_fen), 0)`.as('n'))
    .where('out_trade_no', '=', attempt.out_trade_no)
    .where('status', '!=', 'failed')
    .executeTakeFirstOrThrow();
  return { ok: true, attempt, leftFen: attempt.amount_fen - Number(taken.n) };
}

/** What a merchant refund may still take from the order's own payment: 0 unless it is paid or partly refunded. */
export async function refundableFen(db: DbOrTrx, order: { id: string; status: string; transaction_id: string | null }): Promise<number> {
  if (order.status !== 'paid' && order.status !== 'partially_refunded') return 0;
  const t = await refundTarget(db, order);
  return t.ok ? Math.max(0, t.leftFen) : 0;
}

/**
 * Inserts a `processing` refund row if the amount fits what is left on the attempt. The order row is
 * updated first so that, on PostgreSQL, concurrent reservations for one order queue on its row lock
 * (SQLite transactions are serialized already): two refunds can never both pass the "what is left" check.
 */
export async function reserveRefund(trx: Kysely<Database>, input: ReserveInput): Promise<ReserveResult> {
  const { orderId, amountFen, origin } = input;
  if (!Number.isSafeInteger(amountFen) || amountFen <= 0) {
    return { ok: false, code: 'BAD_AMOUNT', message: `refund amount must be a positive whole number of fen, got ${amountFen}` };
  }
  const now = nowIso();
  const locked = await trx.updateTable('orders').set({ updated_at: now }).where('id', '=', orderId).executeTakeFirst();
  if (Number(locked.numUpdatedRows) === 0) return { ok: false, code: 'ORDER_NOT_FOUND', message: `no order ${orderId}` };
  const order = await trx.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();

  const target = await refundTarget(trx, order, input.outTradeNo);
  if (!target.ok) return target;
  const { attempt, leftFen: left } = target;
  if (amountFen > left) {
    return { ok: false, code: 'AMOUNT_EXCEEDS', message: `refund of ${amountFen} fen exceeds the ${left} fen left to refund on ${attempt.out_trade_no}` };
  }
  const refund: Refund = {
    out_refund_no: newOutRefundNo(),
    order_id: orderId,
    out_trade_no: attempt.out_trade_no,
    amount_fen: amountFen,
    reason: input.reason.slice(0, 80),
    origin,
    status: 'processing',
    refund_id: null,
    detail: null,
    created_at: now,
    updated_at: now,
  };
  await trx.insertInto('refunds').values(refund).execute();
  await recordEvent(trx, {
    orderId,
    outTradeNo: attempt.out_trade_no,
    source: 'refund',
    outcome: 'applied',
    detail: `refund ${refund.out_refund_no} of ${amountFen} fen requested (${origin}): ${refund.reason}`,
  });
  return { ok: true, refund };
}

/** WeChat's word on one refund, from its refund notify or a refundquery. */
export interface RefundResultInput {
  outRefundNo: string;
  status: RefundVerdict;
  refundId?: string;
  /** WeChat's refund_fee, when it said: must equal the amount we asked for. */
  refundFee?: number;
  /** The trade WeChat names, when it said: must be the refund's paid attempt (out_trade_no, its transaction_id, its amount). */
  outTradeNo?: string;
  transactionId?: string;
  totalFee?: number;
  /** refund_recv_accout: where the money went (kept in the refund's detail). */
  receivedAccount?: string;
  source: 'refund_notify' | 'refund';
  raw?: string;
}

/** What applyRefundResult did; a repeat is `duplicate` and changes nothing. */
export type RefundResultOutcome =
  | { outcome: 'applied' | 'duplicate' | 'pending'; refund: Refund }
  | { outcome: 'rejected'; code: string; detail: string };

/**
 * CHANGE (退款异常): WeChat took the refund out of the merchant's account, but paying it back the
 * original way failed (the buyer's card was cancelled or frozen), so the money waits in WeChat Pay's
 * refund account until the merchant settles it by hand in the merchant portal (交易中心): to another
 * card of the buyer, or back to the merchant's bank account and then to the buyer offline. Sources:
 * refundquery, https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_5 ("CHANGE—退款异常，退款到
 * 银行发现用户的卡作废或者冻结了，导致原路退款银行卡失败，可前往商户平台（pay.weixin.qq.com）-交易中心，
 * 手动处理此笔退款"); the v3 guide https://pay.weixin.qq.com/doc/v3/merchant/4013071031 (ABNORMAL: the
 * money stays in the refund account until the abnormal refund is handled).
 */
const CHANGE_DETAIL =
  'CHANGE (退款异常): WeChat took this refund from the merchant account but could not pay it into the buyer\'s account ' +
  '(card cancelled or frozen); it waits in WeChat Pay\'s refund account. Settle it by hand in the WeChat Pay merchant portal ' +
  '(pay.weixin.qq.com, 交易中心): to another account of the buyer, or back to the merchant and then to the buyer offline. ' +
  'Do not refund it again.';

/** Where each verdict moves a refund from, and to. SUCCESS may follow CHANGE: the merchant settled it in the portal. */
const TRANSITIONS: Record<Exclude<RefundVerdict, 'PROCESSING'>, { from: RefundStatus[]; to: RefundStatus }> = {
  SUCCESS: { from: ['processing', 'abnormal'], to: 'succeeded' },
  CHANGE: { from: ['processing'], to: 'abnormal' },
  REFUNDCLOSE: { from: ['processing'], to: 'failed' },
};

/**
 * Applies WeChat's word on a refund, once: the refund row moves with a conditional update, so notify
 * repeats and concurrent refundqueries never add to refunded_fen twice. Before anything moves, every
 * id and amount WeChat named must be the stored refund's: its out_trade_no, that attempt's
 * transaction_id and amount, the refund_fee we asked for, the refund_id WeChat gave us. A mismatch is
 * refused with a `rejected` event and changes nothing (a notify is authenticated only by decrypting,
 * so matching on out_refund_no alone would let one refund's verdict settle another).
 */
export async function applyRefundResult(input: RefundResultInput): Promise<RefundResultOutcome> {
  const started = performance.now();
  const r = await applyRefundResultTx(input);
  // After the commit, like applyPayment: only what stuck is counted.
  if (r.outcome === 'applied') metrics().refunds.inc({ status: r.refund.status });
  const line = {
    event: 'refund', action: 'result', source: input.source, order_id: r.outcome === 'rejected' ? undefined : r.refund.order_id,
    out_trade_no: r.outcome === 'rejected' ? input.outTradeNo : r.refund.out_trade_no, out_refund_no: input.outRefundNo,
    wechat_status: input.status, status: r.outcome === 'rejected' ? undefined : r.refund.status, outcome: r.outcome,
    code: r.outcome === 'rejected' ? r.code : undefined, duration_ms: Math.round((performance.now() - started) * 10) / 10,
  };
  if (r.outcome === 'rejected' || (r.outcome === 'applied' && r.refund.status === 'abnormal')) log().warn(line, 'refund result');
  else log().info(line, 'refund result');
  return r;
}

async function applyRefundResultTx(input: RefundResultInput): Promise<RefundResultOutcome> {
  return writeTransaction(async (trx) => {
    const refund = await trx.selectFrom('refunds').selectAll().where('out_refund_no', '=', input.outRefundNo).executeTakeFirst();
    const reject = async (code: string, text: string, orderId?: string) => {
      const detail = `${code}: ${text}`;
      await recordEvent(trx, { orderId, outTradeNo: refund?.out_trade_no ?? input.outTradeNo, source: input.source, outcome: 'rejected', detail, raw: input.raw });
      return { outcome: 'rejected' as const, code, detail };
    };
    if (!refund) return reject('UNKNOWN_OUT_REFUND_NO', `no refund ${input.outRefundNo}`);
    const attempt = await trx.selectFrom('payment_attempts').select(['transaction_id', 'amount_fen']).where('out_trade_no', '=', refund.out_trade_no).executeTakeFirstOrThrow();
    const mismatch = matchRefund(input, refund, attempt);
    if (mismatch) return reject(mismatch.code, `${mismatch.text}: refund ${refund.out_refund_no} is not the one WeChat describes; nothing changed`, refund.order_id);
    const now = nowIso();
    if (input.status === 'PROCESSING') {
      if (input.refundId && !refund.refund_id) {
        await trx.updateTable('refunds').set({ refund_id: input.refundId, updated_at: now }).where('out_refund_no', '=', refund.out_refund_no).execute();
      }
      return { outcome: 'pending' as const, refund };
    }
    const { from, to } = TRANSITIONS[input.status];
    const account = input.receivedAccount ? ` to ${input.receivedAccount}` : '';
    const detail = to === 'succeeded' ? `refunded${account}` : to === 'abnormal' ? CHANGE_DETAIL : 'REFUNDCLOSE: WeChat closed the refund';
    const upd = await trx
      .updateTable('refunds')
      .set({ status: to, refund_id: input.refundId ?? refund.refund_id, detail, updated_at: now })
      .where('out_refund_no', '=', refund.out_refund_no)
      .where('status', 'in', from)
      .executeTakeFirst();
    if (Number(upd.numUpdatedRows) === 0) {
      await recordEvent(trx, {
        orderId: refund.order_id, outTradeNo: refund.out_trade_no, source: input.source, outcome: 'duplicate',
        detail: `refund ${refund.out_refund_no} already ${refund.status}; WeChat says ${input.status}: nothing changed`, raw: input.raw,
      });
      return { outcome: 'duplicate' as const, refund };
    }
    // Only money that reached the buyer counts as refunded: an abnormal refund left the merchant's
    // account but may still come back to it (docs/checkout.md, "Refunds WeChat could not deliver").
    if (to === 'succeeded' && refund.origin !== 'duplicate') {
      const amt = refund.amount_fen;
      await trx
        .updateTable('orders')
        .set({
          refunded_fen: sql`refunded_fen + ${amt}`,
          status: sql`case when refunded_fen + ${amt} >= amount_fen then 'refunded' else 'partially_refunded' end`,
          updated_at: now,
        })
        .where('id', '=', refund.order_id)
        .execute();
    }
    await recordEvent(trx, {
      orderId: refund.order_id, outTradeNo: refund.out_trade_no, source: input.source, outcome: 'applied',
      detail: `refund ${refund.out_refund_no} of ${refund.amount_fen} fen (${refund.origin}) ${refund.status} -> ${to}: ${detail}`,
      raw: input.raw,
    });
    if (to !== 'abnormal') await emitRefundEvent(trx, to === 'succeeded' ? 'refund.succeeded' : 'refund.failed', refund.out_refund_no);
    const after = await trx.selectFrom('refunds').selectAll().where('out_refund_no', '=', refund.out_refund_no).executeTakeFirstOrThrow();
    return { outcome: 'applied' as const, refund: after };
  });
}

/** The first id or amount WeChat named that is not the stored refund's, or null when all that was named matches. */
function matchRefund(input: RefundResultInput, refund: Refund, attempt: { transaction_id: string | null; amount_fen: number }): { code: string; text: string } | null {
  if (input.outTradeNo !== undefined && input.outTradeNo !== refund.out_trade_no) {
    return { code: 'OUT_TRADE_NO_MISMATCH', text: `out_trade_no ${input.outTradeNo} differs from ${refund.out_trade_no}` };
  }
  if (input.transactionId !== undefined && input.transactionId !== attempt.transaction_id) {
    return { code: 'TRANSACTION_ID_MISMATCH', text: `transaction_id ${input.transactionId} differs from the paid attempt's ${attempt.transaction_id ?? '(none)'}` };
  }
  if (input.refundFee !== undefined && input.refundFee !== refund.amount_fen) {
    return { code: 'AMOUNT_MISMATCH', text: `refund_fee ${input.refundFee} differs from the ${refund.amount_fen} fen requested` };
  }
  if (input.totalFee !== undefined && input.totalFee !== attempt.amount_fen) {
    return { code: 'AMOUNT_MISMATCH', text: `total_fee ${input.totalFee} differs from the paid attempt's ${attempt.amount_fen} fen` };
  }
  if (input.refundId && refund.refund_id && input.refundId !== refund.refund_id) {
    return { code: 'REFUND_ID_MISMATCH', text: `refund_id ${input.refundId} differs from ${refund.refund_id}, the one WeChat gave when it accepted the refund` };
  }
  return null;
}
