import type { DbKind } from '../../db';
import type { Order } from '../../db/schema';
import { type DbOrTrx } from '../kernel';
import { refundObject, sessionObject } from '../objects';
import { emitEvent } from './emit';

/*
 * The state changes the checkout reports, each called by the code that makes the change, with its
 * transaction, after the change: the object is read back inside that transaction, so the event carries
 * the session or refund exactly as the change left it (as GET would show it once committed), and an
 * event exists exactly when its change committed.
 */

/** Session events: a payment applied, a window that ended, a close by the merchant or the API, a second payment. */
export type SessionEventType = 'checkout.session.paid' | 'checkout.session.expired' | 'checkout.session.closed' | 'payment.duplicate';

/** Refund events: WeChat's final word on a refund (REFUNDCLOSE and a refusal are both `refund.failed`). */
export type RefundEventType = 'refund.succeeded' | 'refund.failed';

/**
 * Emits `type` with the session of an order as `data.object`; returns the event id. Given the order's
 * id it reads the row in `trx`; a caller that already holds the row as its change left it (an UPDATE
 * ... RETURNING in the same transaction) passes the row and saves the read. `engine`: see emitEvent.
 */
export async function emitSessionEvent(trx: DbOrTrx, type: SessionEventType, orderOrId: string | Order, engine?: DbKind): Promise<string> {
  const order = typeof orderOrId === 'string'
    ? await trx.selectFrom('orders').selectAll().where('id', '=', orderOrId).executeTakeFirstOrThrow()
    : orderOrId;
  return emitEvent(trx, { type, data: { object: { ...sessionObject(order) } }, orderId: order.id }, engine);
}

/** Emits `type` with refund `outRefundNo` as `data.object`; returns the event id. */
export async function emitRefundEvent(trx: DbOrTrx, type: RefundEventType, outRefundNo: string): Promise<string> {
  const refund = await trx.selectFrom('refunds').selectAll().where('out_refund_no', '=', outRefundNo).executeTakeFirstOrThrow();
  return emitEvent(trx, { type, data: { object: { ...refundObject(refund) } }, orderId: refund.order_id });
}
