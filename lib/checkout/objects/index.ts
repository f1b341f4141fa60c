/**
 * The public JSON objects of the checkout API: the checkout session (one order row, from a shop link or
 * the API) and the refund, with their zod schemas for the OpenAPI document. A leaf: it reads rows and
 * configuration only (kernel, db types, config), so the sessions API and webhooks can share the shapes.
 */
export { parseMetadata, sessionObject, sessionStatus, sessionUrl, SESSION_STATUSES, type SessionObject, type SessionStatus } from './session';
export { refundObject, type RefundObject, type RefundObjectStatus } from './refund';
export { ErrorEnvelopeSchema, RefundObjectSchema, SessionListSchema, SessionObjectSchema } from './schemas';
