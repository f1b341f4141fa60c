/**
 * Payments: a buyer starts paying (startPayment: order, attempt, unifiedorder), WeChat or a query says
 * money moved, and applyPayment, the one transition function, makes an order paid exactly once.
 * Also: the payment notify use case, orderquery/closeorder follow-ups and the merchant's sync and close.
 */
export { startPayment, truncateUtf8, BODY_MAX_BYTES, MAX_QUANTITY, type StartPaymentInput, type StartPaymentResult, type StartPaymentErrorCode } from './start';
export { startSessionPayment, type StartSessionPaymentInput } from './start-session';
export { MIN_ATTEMPT_WINDOW_MS, mwebPayUrl } from './placing';
export { shopReturnUrl } from './start';
export { sessionReturnUrl } from './start-session';
export { MWEB_REFUSAL_TTL_MS, mwebOffered, mwebRefusedAt, payModeNow } from './capabilities';
export { applyPayment, DUPLICATE_REFUND_REASON, type PaymentInput, type PaymentOutcome, type PaymentSource } from './apply';
export {
  CLAIM_GAP_MS, CLAIM_SEND_MS, CLAIM_SLACK_MS, closeAttempt, closeOrderIfUnpaid, closeUnpaidOrder, confirmAttempt, confirmPendingOrder, POLL_QUERY_GAP_MS, syncOrder,
  type CloseResult, type ConfirmResult, type SyncResult,
} from './sync';
export { receivePaymentNotify, refusePaymentNotify, type NotifyReply } from './notify';
export { MAX_XML_BYTES as MAX_NOTIFY_BYTES, type JsapiPayParams } from '../gateway';
