/**
 * Payments: the one transition function (applyPayment) and everything that feeds it from WeChat's
 * answers (orderquery, closeorder). Split in two files so each stays small; import from here.
 */
export { applyPayment, DUPLICATE_REFUND_REASON } from './payment-apply';
export type { PaymentInput, PaymentOutcome, PaymentSource } from './payment-apply';
export {
  closeAttempt, closeOrderIfUnpaid, closeUnpaidOrder, confirmAttempt, confirmPendingOrder, POLL_QUERY_GAP_MS, syncOrder,
} from './payment-sync';
export type { CloseResult, ConfirmResult, SyncResult } from './payment-sync';
