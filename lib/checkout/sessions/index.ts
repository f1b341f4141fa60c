/**
 * The checkout sessions API (docs/api.md): a merchant's system creates a session server to server
 * (validated by zod schemas that also generate the OpenAPI document), reads, lists, closes and refunds
 * it. A session is an `orders` row like a shop-link purchase, paid at /pay/{id} through payments and
 * refunded through the refunds ledger. Each route's use case takes plain values and answers an ApiReply.
 */
export { closeSessionCall, createRefundCall, createSessionCall, getSessionCall, listSessionsCall, type ApiRequest } from './api';
export { openApiDocument } from './openapi';
export { buyerSession, successRedirectUrl } from './buyer';
export { MAX_EXPIRES_MINUTES, MIN_EXPIRES_MINUTES } from './schemas';
