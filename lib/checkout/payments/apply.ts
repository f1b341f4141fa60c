import { getDb, nowIso } from '../../db';
import type { Kysely } from 'kysely';
import type { Database, PaymentAttempt, Refund } from '../../db/schema';
import { log } from '../../log';
import { metrics } from '../../metrics';
import { appendEvent, type DbOrTrx, recordEvent, writeTransaction } from '../kernel';
import { refundsUnavailable, reserveRefund } from '../refunds';
import { emitSessionEvent } from '../webhooks';
import { applyShort, paymentChanges } from './apply-short';
import type { PaymentInput } from './payment-input';
import { knownPaidAttempt, rememberPaidAttempt } from './paid-attempts';

export type { PaymentInput, PaymentSource } from './payment-input';

/** What applyPayment did; exactly one racing copy of a payment gets `applied`. */
export type PaymentOutcome =
  /** This call moved the attempt to paid and the order to paid. */
  | { outcome: 'applied'; orderId: string; detail: string }
  /** Already applied before (notify repeat, query after notify): nothing changed. */
  | { outcome: 'duplicate'; orderId: string; detail: string }
  /** A second attempt of an already paid order was paid: flagged, and a refund reserved. */
  | { outcome: 'duplicate_payment'; orderId: string; detail: string; refund: Refund | null }
  | { outcome: 'rejected'; orderId: string | null; code: string; detail: string };

/** The reason recorded on the automatic refund of a duplicate payment (WeChat shows it to the buyer). */
export const DUPLICATE_REFUND_REASON = '重复支付自动退款 duplicate payment';

/** Event `source` column for each payment source. */
const EVENT_SOURCE = { notify: 'notify', query: 'query', merchant: 'merchant' } as const;

type Refusal = { code: string; text: string; orderId: string | null };

/** Why a payment result must not be applied to `attempt` (checked before anything changes), or null. */
function refusalOf(attempt: PaymentAttempt | undefined, input: PaymentInput): Refusal | null {
  if (!attempt) return { code: 'UNKNOWN_OUT_TRADE_NO', text: `no payment attempt ${input.outTradeNo}`, orderId: null };
  return resultRefusal(input, attempt);
}

/**
 * What is wrong with the payment result itself, in the order it is checked; with `attempt`, whether
 * its amount is the attempt's (without, the caller leaves that to its statement's condition).
 */
function resultRefusal(input: PaymentInput, attempt?: PaymentAttempt): Refusal | null {
  const orderId = attempt?.order_id ?? null;
  // Amounts are fen only in CNY: a total_fee in another currency that happens to equal amount_fen is
  // not our price, so the currency is checked before the amount (absent means CNY, WeChat's default).
  for (const [name, value] of [['fee_type', input.feeType], ['cash_fee_type', input.cashFeeType]] as const) {
    if (value !== undefined && value !== 'CNY') {
      return { code: 'NOT_CNY', text: `${name}=${value}: this shop charges CNY only, so the payment is not applied`, orderId };
    }
  }
  if (!Number.isSafeInteger(input.totalFee) || (attempt && input.totalFee !== attempt.amount_fen)) {
    return { code: 'AMOUNT_MISMATCH', text: `total_fee ${input.totalFee} differs from the attempt's ${attempt?.amount_fen} fen`, orderId };
  }
  // A coupon lowers what the buyer paid, never the price: the check above is on total_fee, and
  // cash_fee only has to make sense beside it (0 when a coupon paid everything, at most total_fee).
  if (input.cashFee !== undefined && !(Number.isSafeInteger(input.cashFee) && input.cashFee >= 0 && input.cashFee <= input.totalFee)) {
    return { code: 'CASH_FEE_INVALID', text: `cash_fee ${input.cashFee} is not an amount between 0 and total_fee ${input.totalFee} fen`, orderId };
  }
  if (!input.transactionId) return { code: 'NO_TRANSACTION_ID', text: 'payment without transaction_id', orderId };
  return null;
}

/** The audit text of a payment applied to its order. */
function appliedDetail(input: PaymentInput): string {
  const coupon = input.cashFee !== undefined && input.cashFee < input.totalFee ? `, buyer paid ${input.cashFee} fen and a coupon ${input.totalFee - input.cashFee}` : '';
  return `paid: attempt ${input.outTradeNo}, transaction ${input.transactionId}, ${input.totalFee} fen${coupon} (via ${input.source})`;
}

/**
 * The audit row of a repeat: the attempt was already paid, nothing changed. Written in `trx` when the
 * repeat was found inside a transaction, else appended (batched with the repeats around it).
 */
async function recordRepeat(db: Kysely<Database>, attempt: PaymentAttempt, input: PaymentInput, trx?: DbOrTrx): Promise<PaymentOutcome> {
  const detail = `attempt ${input.outTradeNo} already paid (transaction ${attempt.transaction_id ?? input.transactionId}): nothing changed`;
  const e = { orderId: attempt.order_id, outTradeNo: input.outTradeNo, source: EVENT_SOURCE[input.source], outcome: 'duplicate' as const, detail, raw: input.raw };
  await (trx ? recordEvent(trx, e) : appendEvent(db, e));
  return { outcome: 'duplicate', orderId: attempt.order_id, detail };
}

/**
 * THE transition function: every source that learns money moved (notify, orderquery, merchant sync)
 * comes through here. One transaction writes the event and applies the transition, with conditional
 * updates (attempt `!= paid`, order `in (pending, closed)`) so that however many copies race, on SQLite
 * or PostgreSQL, exactly one of them applies and the others see `duplicate`.
 *
 * The common case, a payment of an open attempt, goes straight into a short write transaction whose
 * conditions do the checks (./apply-short.ts); whatever it does not apply is undone and comes here.
 * Here the attempt is read first, outside any transaction: what is checked of it (order, amount) never
 * changes once it exists, and `paid` is its last state. So a refused result, and a repeat of a payment
 * already applied (WeChat resends a notify until it reads SUCCESS), are settled with that read and one
 * insert of their audit row, no transaction; only a payment that may still apply takes the write path.
 * A repeat of an attempt this process already knows paid skips the short path and is not even read
 * (./paid-attempts.ts).
 *
 * A closed attempt or order may still become paid: the payment is WeChat's word that money moved, and a
 * close can lose a race with the buyer's payment. The refund for a duplicate payment is only reserved
 * here (a `processing` row committed with the payment); the caller submits it to WeChat after commit,
 * and the reconciler resubmits it if this process dies first.
 */
export async function applyPayment(input: PaymentInput): Promise<PaymentOutcome> {
  const started = performance.now();
  const r = await applyPaymentTx(input);
  // Counted and logged after the commit: a transaction that rolled back changed nothing to report.
  const ms = Math.round((performance.now() - started) * 10) / 10;
  metrics().paymentTransitions.inc({ source: input.source, outcome: r.outcome });
  if (r.outcome === 'duplicate_payment' && r.refund) metrics().refunds.inc({ status: 'processing' });
  const line = {
    event: 'payment_transition', source: input.source, order_id: r.orderId, out_trade_no: input.outTradeNo, transaction_id: input.transactionId,
    amount_fen: input.totalFee, outcome: r.outcome, code: r.outcome === 'rejected' ? r.code : undefined,
    out_refund_no: r.outcome === 'duplicate_payment' ? r.refund?.out_refund_no : undefined, duration_ms: ms,
  };
  if (r.outcome === 'rejected' || r.outcome === 'duplicate_payment') log().warn(line, r.detail);
  else log().info(line, r.outcome === 'applied' ? 'order paid' : 'payment already applied');
  return r;
}

async function applyPaymentTx(input: PaymentInput): Promise<PaymentOutcome> {
  const source = EVENT_SOURCE[input.source];
  const db = await getDb();
  const known = knownPaidAttempt(db, input.outTradeNo);
  if (!known && !resultRefusal(input)) {
    const detail = appliedDetail(input);
    const orderId = await applyShort(input, detail, source);
    if (orderId) return { outcome: 'applied', orderId, detail };
  }
  const attempt = known
    ?? await db.selectFrom('payment_attempts').selectAll().where('out_trade_no', '=', input.outTradeNo).executeTakeFirst();
  const refused = refusalOf(attempt, input);
  if (refused || !attempt) {
    const { code, text, orderId } = refused!;
    const detail = `${code}: ${text}`;
    await appendEvent(db, { orderId, outTradeNo: input.outTradeNo, source, outcome: 'rejected', detail, raw: input.raw });
    return { outcome: 'rejected', orderId, code, detail };
  }
  if (attempt.status === 'paid') {
    rememberPaidAttempt(db, attempt);
    return recordRepeat(db, attempt, input);
  }
  // The attempt as this payment leaves it (the update below sets exactly these columns), remembered
  // once its transaction has committed.
  const now = nowIso();
  const c = paymentChanges(input, now);
  const paid: PaymentAttempt = { ...attempt, ...c.attempt, openid: attempt.openid ?? input.openid ?? null };
  const r = await writeTransaction(async (trx, kind): Promise<PaymentOutcome> => {
    const orderId = attempt.order_id;

    const a = await trx
      .updateTable('payment_attempts')
      .set({ ...c.attempt, openid: paid.openid })
      .where('out_trade_no', '=', input.outTradeNo)
      .where('status', '!=', 'paid')
      .executeTakeFirst();
    // A copy that raced this one since the read applied first.
    if (Number(a.numUpdatedRows) === 0) {
      const paid = await trx.selectFrom('payment_attempts').selectAll().where('out_trade_no', '=', input.outTradeNo).executeTakeFirstOrThrow();
      return recordRepeat(db, paid, input, trx);
    }

    const order = await trx
      .updateTable('orders')
      .set((eb) => ({ ...c.order, buyer_openid: eb.fn.coalesce('buyer_openid', eb.val(input.openid ?? null)) }))
      .where('id', '=', orderId)
      .where('status', 'in', ['pending', 'closed'])
      .returningAll()
      .executeTakeFirst();
    if (order) {
      const detail = appliedDetail(input);
      await recordEvent(trx, { orderId, outTradeNo: input.outTradeNo, source, outcome: 'applied', detail, raw: input.raw });
      // The order as this change left it (RETURNING): the event carries it without reading it again.
      await emitSessionEvent(trx, 'checkout.session.paid', order, kind);
      return { outcome: 'applied', orderId, detail };
    }

    // The order was already paid through another attempt: the buyer paid twice (e.g. the QR and the
    // JSAPI prompt). Keep the money's trail, flag the order, and give this second payment back.
    const paidOrder = await trx.selectFrom('orders').select(['transaction_id', 'status']).where('id', '=', orderId).executeTakeFirstOrThrow();
    await trx.updateTable('orders').set({ duplicate_paid: 1, updated_at: now }).where('id', '=', orderId).execute();
    const reserved = await reserveRefund(trx, {
      orderId,
      outTradeNo: input.outTradeNo,
      amountFen: attempt.amount_fen,
      reason: DUPLICATE_REFUND_REASON,
      origin: 'duplicate',
    });
    const blocked = refundsUnavailable();
    const refundText = reserved.ok
      ? `refund ${reserved.refund.out_refund_no} of ${attempt.amount_fen} fen started automatically${blocked ? ` (sent once this is fixed: ${blocked})` : ''}`
      : `automatic refund NOT started (${reserved.code}: ${reserved.message}); refund it by hand`;
    const detail =
      `DUPLICATE_PAYMENT: attempt ${input.outTradeNo} (transaction ${input.transactionId}) was paid although order ` +
      `${orderId} was already ${paidOrder.status} by transaction ${paidOrder.transaction_id}; ${refundText}`;
    await recordEvent(trx, { orderId, outTradeNo: input.outTradeNo, source, outcome: 'applied', detail, raw: input.raw });
    await emitSessionEvent(trx, 'payment.duplicate', orderId, kind);
    return { outcome: 'duplicate_payment', orderId, detail, refund: reserved.ok ? reserved.refund : null };
  });
  if (r.outcome === 'applied' || r.outcome === 'duplicate_payment') rememberPaidAttempt(db, paid);
  return r;
}
