import { nowIso } from '../../db';
import { eventRow, writeTransaction } from '../kernel';
import { emitSessionEvent } from '../webhooks';

/** What the short path needs of a payment result (a PaymentInput of ./apply.ts, whose checks it passed). */
export interface ShortPayment {
  outTradeNo: string;
  transactionId: string;
  totalFee: number;
  cashFee?: number;
  openid?: string | null;
  paidAt?: string;
  raw?: string;
}

/** Thrown inside the transaction to roll it back: this payment is not one for the short path. */
const NOT_SHORT = Symbol('not for the short path');

/**
 * PostgreSQL's short path for the common case, a payment of an open attempt of an unpaid order: one
 * transaction of four round trips (BEGIN; one statement that marks the attempt paid, the order paid
 * and writes the audit row; the webhook event with the endpoints' read; COMMIT) where the general path
 * takes eight. On PostgreSQL a round trip costs more than everything else a notify does (the socket
 * write and the wake-up of the database's process, on the same cores), so their number is the cost.
 *
 * The statement's conditions are the general path's (attempt not paid and of this amount, order
 * pending or closed), and every CTE of it runs in the same snapshot, atomically. When it does not
 * apply (unknown attempt, another amount, already paid, a racing copy, an order paid by another
 * attempt), the transaction is rolled back, nothing of it remains, and null sends the caller to the
 * general path, which reads the attempt and says why (refusal, repeat, duplicate payment).
 * `detail` is the audit row's text; the caller has checked everything of `input` that needs no row.
 * Returns the paid order's id.
 */
export async function applyShortPg(input: ShortPayment, detail: string, source: 'notify' | 'query' | 'merchant'): Promise<string | null> {
  try {
    return await writeTransaction(async (trx, kind) => {
      if (kind !== 'postgres') throw new Error('applyShortPg: PostgreSQL only (data-modifying CTEs)');
      const now = nowIso();
      const { order_id: _none, ...audit } = eventRow({ outTradeNo: input.outTradeNo, source, outcome: 'applied', detail, raw: input.raw });
      const order = await trx
        .with('a', (q) => q.updateTable('payment_attempts')
          .set((eb) => ({ status: 'paid', transaction_id: input.transactionId, openid: eb.fn.coalesce('openid', eb.val(input.openid ?? null)), cash_fen: input.cashFee ?? null, updated_at: now }))
          .where('out_trade_no', '=', input.outTradeNo)
          .where('status', '!=', 'paid')
          .where('amount_fen', '=', input.totalFee)
          .returning('order_id'))
        .with('o', (q) => q.updateTable('orders')
          .set((eb) => ({
            status: 'paid', transaction_id: input.transactionId, paid_at: input.paidAt ?? now,
            buyer_openid: eb.fn.coalesce('buyer_openid', eb.val(input.openid ?? null)), updated_at: now,
          }))
          .where('id', 'in', q.selectFrom('a').select('order_id'))
          .where('status', 'in', ['pending', 'closed'])
          .returningAll())
        // Written whether or not `o` matched: when it did not, the whole transaction is rolled back below.
        .with('ev', (q) => q.insertInto('payment_events').values({ ...audit, order_id: (eb) => eb.selectFrom('o').select('id') }).returning('id'))
        .selectFrom('o')
        .selectAll()
        .executeTakeFirst();
      if (!order) throw NOT_SHORT;
      // The order as this change left it (RETURNING): the event carries it without reading it again.
      await emitSessionEvent(trx, 'checkout.session.paid', order, 'postgres');
      return order.id;
    });
  } catch (e) {
    if (e === NOT_SHORT) return null;
    throw e;
  }
}
