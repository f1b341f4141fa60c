/**
 * Refunds: the ledger (reserve against what is left on a paid attempt, apply WeChat's verdict once),
 * submitting to WeChat and following up (refundquery, resubmit), and the refund notify use case.
 */
export { applyRefundResult, refundableFen, reserveRefund, type RefundOrigin, type RefundResultInput, type RefundResultOutcome, type ReserveInput, type ReserveResult } from './ledger';
export { followRefund, refundsUnavailable, requestRefund, submitRefund, type RefundRequest, type RefundResult } from './submit';
export { receiveRefundNotify, refuseRefundNotify } from './notify';
