import type { Kysely, QueryCreator, SelectQueryBuilder } from 'kysely';
import { nowIso, prepareQuery } from '../../db';
import { type Database, ORDER_COLUMNS, type Order } from '../../db/schema';
import { eventRow, recordEvent, writeTransaction } from '../kernel';
import { emitSessionEvent } from '../webhooks';
import type { PaymentInput, PaymentSource } from './payment-input';

/** What the short path reads of a payment result (one that passed ./apply.ts's checks of the result itself). */
type ShortPayment = Omit<PaymentInput, 'source' | 'feeType' | 'cashFeeType'>;

/** Thrown inside the transaction to undo it: this payment is not one for the short path. */
const NOT_SHORT = Symbol('not for the short path');

/**
 * The short path for the common case, a payment of an open attempt of an unpaid order: straight into
 * the write transaction, without reading the attempt first. The general path (./apply.ts) reads it
 * outside any transaction, then writes; here the writes' own conditions do the checking (attempt not
 * paid and of this amount, order pending or closed: the general path's), so a payment that applies
 * costs one statement less and, on SQLite, one wait less for the connection behind a write batch.
 *
 * - PostgreSQL: four round trips (BEGIN; one statement whose CTEs mark the attempt and the order paid
 *   and write the audit row, atomically, in one snapshot; the webhook event with the endpoints' read;
 *   COMMIT) where the general path takes eight. There a round trip costs more than everything else a
 *   notify does (a socket write that wakes the database's process, on the same cores).
 * - SQLite: the same writes as separate statements inside the group commit's savepoint (no CTE can
 *   write there); a statement is a function call.
 *
 * When it does not apply (unknown attempt, another amount, already paid, a racing copy, an order paid
 * by another attempt) the transaction (on SQLite the savepoint) is undone, nothing of it remains, and
 * null sends the caller to the general path, which reads the attempt and says why. `detail` is the
 * audit row's text; the caller has checked everything of `input` that needs no row. Returns the paid
 * order's id.
 */
export async function applyShort(input: ShortPayment, detail: string, source: PaymentSource): Promise<string | null> {
  try {
    return await writeTransaction(async (trx, kind) => {
      const order = kind === 'postgres' ? await payInOneStatement(trx, input, detail, source) : await payStatementByStatement(trx, input, detail, source);
      if (!order) throw NOT_SHORT;
      // The order as this change left it (RETURNING): the event carries it without reading it again.
      await emitSessionEvent(trx, 'checkout.session.paid', order, kind);
      return order.id;
    });
  } catch (e) {
    if (e === NOT_SHORT) return null;
    throw e;
  }
}

/**
 * What a payment sets on its attempt and its order, both paths alike (./apply.ts too); the openids are
 * kept where already known, which each path writes its own way.
 */
export function paymentChanges(input: ShortPayment, now: string) {
  return {
    attempt: { status: 'paid' as const, transaction_id: input.transactionId, cash_fen: input.cashFee ?? null, updated_at: now },
    order: { status: 'paid' as const, transaction_id: input.transactionId, paid_at: input.paidAt ?? now, updated_at: now },
  };
}

/** The values of one short-path payment: what its prepared statements below are run with. */
interface ShortValues {
  [name: string]: unknown;
  outTradeNo: string;
  transactionId: string;
  totalFee: number;
  cashFee: number | null;
  openid: string | null;
  paidAt: string;
  now: string;
}

function shortValues(input: ShortPayment, now: string): ShortValues {
  return {
    outTradeNo: input.outTradeNo, transactionId: input.transactionId, totalFee: input.totalFee, cashFee: input.cashFee ?? null,
    openid: input.openid ?? null, paidAt: input.paidAt ?? now, now,
  };
}

// The statements below are compiled once (lib/db prepareQuery) from the same builders, so they set
// exactly what paymentChanges says; `v` holds placeholders while they are built.
const changes = (v: ShortValues) => paymentChanges({ outTradeNo: v.outTradeNo, transactionId: v.transactionId, totalFee: v.totalFee, cashFee: v.cashFee as number, openid: v.openid, paidAt: v.paidAt }, v.now);
const markAttempt = (db: QueryCreator<Database>, v: ShortValues) => db.updateTable('payment_attempts')
  .set((eb) => ({ ...changes(v).attempt, openid: eb.fn.coalesce('openid', eb.val(v.openid)) }))
  .where('out_trade_no', '=', v.outTradeNo)
  .where('status', '!=', 'paid')
  .where('amount_fen', '=', v.totalFee)
  .returning('order_id');
const markOrder = (db: QueryCreator<Database>, v: ShortValues, orderId: string | SelectQueryBuilder<never, never, { order_id: string }>) => db.updateTable('orders')
  .set((eb) => ({ ...changes(v).order, buyer_openid: eb.fn.coalesce('buyer_openid', eb.val(v.openid)) }))
  .where('id', '=', orderId)
  .where('status', 'in', ['pending', 'closed'])
  // Named, not `*`: a named statement returning `*` fails once a migration adds a column (ORDER_COLUMNS).
  .returning(ORDER_COLUMNS);

/** SQLite's two updates; the audit row is kernel recordEvent's. */
const payAttempt = prepareQuery((db, v: ShortValues) => markAttempt(db, v));
const payOrder = prepareQuery((db, v: ShortValues & { orderId: string }) => markOrder(db, v, v.orderId));

/** The audit row's values in PostgreSQL's one statement (its order_id comes from the order's update). */
type AuditValues = { [K in keyof Omit<ReturnType<typeof eventRow>, 'order_id'> as `audit_${K}`]: ReturnType<typeof eventRow>[K] };

/** PostgreSQL: attempt, order and audit row in one statement. */
const payAll = prepareQuery((db, v: ShortValues & AuditValues) => db
  .with('a', (q) => markAttempt(q, v))
  // The order's update only adds `a` to its scope for the subquery: the rest reads the database's own tables.
  .with('o', (q) => markOrder(q as unknown as QueryCreator<Database>, v, q.selectFrom('a').select('order_id') as unknown as SelectQueryBuilder<never, never, { order_id: string }>))
  // Written whether or not `o` matched: when it did not, the whole transaction is rolled back.
  .with('ev', (q) => q.insertInto('payment_events').values({
    id: v.audit_id, out_trade_no: v.audit_out_trade_no, source: v.audit_source, outcome: v.audit_outcome, detail: v.audit_detail, raw: v.audit_raw, at: v.audit_at,
    order_id: (eb) => eb.selectFrom('o').select('id'),
  }).returning('id'))
  .selectFrom('o')
  .select(ORDER_COLUMNS));

/** PostgreSQL: attempt, order and audit row in one statement; the order as paid, or undefined. */
async function payInOneStatement(trx: Kysely<Database>, input: ShortPayment, detail: string, source: PaymentSource): Promise<Order | undefined> {
  const { order_id: _none, ...a } = eventRow({ outTradeNo: input.outTradeNo, source, outcome: 'applied', detail, raw: input.raw });
  const audit: AuditValues = {
    audit_id: a.id, audit_out_trade_no: a.out_trade_no, audit_source: a.source, audit_outcome: a.outcome, audit_detail: a.detail, audit_raw: a.raw, audit_at: a.at,
  };
  return (await payAll.execute(trx, { ...shortValues(input, nowIso()), ...audit })).rows[0];
}

/** SQLite: the same writes one by one; undefined (and the savepoint undone by the caller) when one does not match. */
async function payStatementByStatement(trx: Kysely<Database>, input: ShortPayment, detail: string, source: PaymentSource): Promise<Order | undefined> {
  const v = shortValues(input, nowIso());
  const attempt = (await payAttempt.execute(trx, v)).rows[0];
  if (!attempt) return undefined;
  const order = (await payOrder.execute(trx, { ...v, orderId: attempt.order_id })).rows[0];
  if (!order) return undefined;
  await recordEvent(trx, { orderId: order.id, outTradeNo: input.outTradeNo, source, outcome: 'applied', detail, raw: input.raw });
  return order;
}
