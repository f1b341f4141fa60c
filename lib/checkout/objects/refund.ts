import type { Refund } from '../../db/schema';

/** A refund's status as the API shows it (docs/api.md). */
export type RefundObjectStatus = 'processing' | 'succeeded' | 'failed';

/** The public JSON of a refund: `id` is the out_refund_no WeChat also knows it by. */
export interface RefundObject {
  id: string;
  session_id: string;
  amount_fen: number;
  status: RefundObjectStatus;
  reason: string;
  /** Why WeChat refused or closed it (status failed), else null. */
  failure_reason: string | null;
  created_at: string;
}

/**
 * The refund JSON of a refund row. An `abnormal` refund (WeChat's CHANGE: the money left the merchant's
 * account but did not reach the buyer; the merchant settles it in the WeChat Pay portal) shows as
 * `processing`: it is neither failed (its amount is not free to refund again) nor delivered (it does
 * not count in amount_refunded_fen), and it becomes `succeeded` once settled.
 */
export function refundObject(refund: Refund): RefundObject {
  const status: RefundObjectStatus = refund.status === 'abnormal' ? 'processing' : refund.status;
  return {
    id: refund.out_refund_no,
    session_id: refund.order_id,
    amount_fen: Number(refund.amount_fen),
    status,
    reason: refund.reason,
    failure_reason: status === 'failed' ? refund.detail : null,
    created_at: refund.created_at,
  };
}
