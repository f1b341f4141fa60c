/**
 * The shared kernel of lib/checkout: the one way to open a write transaction, the audit log, ids and
 * the id patterns, and the client IP rule. Every capability folder builds on these.
 */
export { writeTransaction, type DbOrTrx } from './tx';
export { appendEvent, appendStats, APPEND_BATCH, eventRow, recordEvent, recordRefusal, type EventInput, type Refusal } from './events';
export { flushRefusals, GLOBAL_PER_MIN, PER_SENDER_PER_MIN, REFUSAL_BUCKET_MS, SAMPLE_BYTES } from './refusals';
export { newId, newOrderId, newOutRefundNo, newOutTradeNo, ORDER_ID_RE, SKU_RE } from './ids';
export { clientBlock, clientIp, FALLBACK_IP, type ClientAddress } from './client-ip';
