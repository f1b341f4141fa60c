/**
 * Signed webhooks (docs/webhooks.md): the merchant's endpoints, the outbox written by `emitEvent` inside
 * the transaction of the state change it reports, and the deliverer that signs (Standard Webhooks),
 * sends, retries on WeChat's schedule and records every attempt, shared by every instance on one database.
 */
export { emitEvent, MAX_PAYLOAD_BYTES, type EmitInput } from './emit';
export { emitRefundEvent, emitSessionEvent, type RefundEventType, type SessionEventType } from './object-events';
export {
  isWebhookEventType, RETRY_SCHEDULE_S, DELIVERY_TIMEOUT_MS, RESPONSE_HEAD_BYTES, WEBHOOK_EVENT_TYPES,
  type WebhookApiError, type WebhookAttemptView, type WebhookDeliveryView, type WebhookEndpointView, type WebhookEventType, type WebhookResult,
} from './types';
export {
  checkEventTypes, checkWebhookUrl, createEndpoint, deleteEndpoint, getEndpoint, listEndpoints, MAX_ENDPOINTS, newWebhookSecret, rollEndpointSecret,
  type WebhookEndpointWithSecret,
} from './endpoints';
export { getDelivery, listEndpointDeliveries, listOrderDeliveries, parseDeliveryLimit, resendDelivery } from './deliveries';
export { claimDue, drainWebhookDeliverer, LEASE_MS, signedHeaders, startWebhookDeliverer, stopWebhookDeliverer } from './deliverer';
export { forbiddenAddressReason, guardedLookup, hostForbidden, type Resolver } from './url-guard';
export { postWebhook, type SendResult } from './send';
