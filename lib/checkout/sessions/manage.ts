import { getDb } from '../../db';
import type { Order, Refund } from '../../db/schema';
import { closeUnpaidOrder } from '../payments';
import { requestRefund } from '../refunds';
import type { CreateRefundInput } from './schemas';

/** What closing a session came to. */
export type CloseOutcome =
  | { kind: 'closed'; order: Order }
  | { kind: 'not_found' }
  | { kind: 'paid'; order: Order; message: string }
  | { kind: 'upstream'; message: string };

/**
 * Closes an unpaid session through the merchant's own close (payments.closeUnpaidOrder): closeorder at
 * WeChat for every open attempt, then the order closed with reason 'api' ('expired' when its window
 * had already ended). A session already closed or expired is answered as it is. A paid one cannot be
 * closed; neither can one WeChat reports paid while closing (ORDERPAID: it becomes paid instead).
 */
export async function closeSession(id: string): Promise<CloseOutcome> {
  const db = await getDb();
  const read = () => db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
  const before = await read();
  if (!before) return { kind: 'not_found' };
  if (before.status !== 'pending' && before.status !== 'closed') return { kind: 'paid', order: before, message: `this checkout session is ${before.status}; only an unpaid session can be closed` };
  const r = await closeUnpaidOrder(id, 'api');
  const after = (await read())!;
  if (r.ok) return after.status === 'closed' ? { kind: 'closed', order: after } : { kind: 'paid', order: after, message: `this checkout session is ${after.status}` };
  if (r.code === 'ORDER_PAID' || r.code === 'NOT_PENDING') return { kind: 'paid', order: after, message: r.message };
  return { kind: 'upstream', message: r.message };
}

/** What a refund request came to. */
export type RefundOutcome =
  | { kind: 'refund'; refund: Refund }
  | { kind: 'refused'; status: 404 | 409 | 422; code: string; message: string; param?: string }
  | { kind: 'upstream'; message: string };

/**
 * Refunds part or all of a paid session through the refunds ledger, the same one the merchant's order
 * page uses (refunds.requestRefund, origin 'api'): the amount is reserved against what is left in one
 * transaction, so concurrent refunds never over-refund. A refund WeChat refused at once is answered as a
 * failed refund (it exists, with its reason); one WeChat accepted stays processing until its notify or
 * a refundquery settles it (then amount_refunded_fen and the session's status move).
 */
export async function refundSession(id: string, input: CreateRefundInput): Promise<RefundOutcome> {
  const r = await requestRefund({ orderId: id, amountFen: input.amount_fen, reason: input.reason ?? '', origin: 'api' });
  if (r.ok) return { kind: 'refund', refund: r.refund };
  if (r.refund) return { kind: 'refund', refund: r.refund };
  switch (r.code) {
    case 'ORDER_NOT_FOUND':
      return { kind: 'refused', status: 404, code: 'resource_missing', message: `no checkout session ${id}`, param: 'id' };
    case 'NOT_PAID':
      return { kind: 'refused', status: 409, code: 'session_not_paid', message: 'this checkout session is not paid: nothing to refund' };
    case 'AMOUNT_EXCEEDS':
      return { kind: 'refused', status: 422, code: 'amount_exceeds_refundable', message: r.message, param: 'amount_fen' };
    case 'BAD_AMOUNT':
      return { kind: 'refused', status: 422, code: 'parameter_invalid', message: r.message, param: 'amount_fen' };
    case 'CERT_REQUIRED':
      return { kind: 'refused', status: 409, code: 'refunds_unavailable', message: r.message };
    default:
      return { kind: 'upstream', message: `${r.code}: ${r.message}` };
  }
}
