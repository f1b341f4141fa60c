/**
 * The developer platform of the checkout API: secret API keys (made, listed and revoked by the
 * merchant; checked against the database on every call), Idempotency-Key records, and the API's
 * reply and error envelope as plain values that app/ writes out.
 */
export { authenticateApiKey, createApiKey, listApiKeys, revokeApiKey, API_KEY_NAME_MAX, type ApiCaller, type ApiKeySummary, type NewApiKey } from './api-keys';
export { checkIdempotencyKey, withIdempotency, IDEMPOTENCY_KEY_MAX, IDEMPOTENCY_TTL_MS } from './idempotency';
export { errorReply, parseJsonBody, type ApiError, type ApiReply } from './replies';
