/**
 * The event types a merchant can subscribe to (docs/webhooks.md). The names are the public contract: a
 * merchant's code switches on them, so one is never renamed, only added.
 */
export const WEBHOOK_EVENT_TYPES = [
  'checkout.session.paid',
  'checkout.session.expired',
  'checkout.session.closed',
  'refund.succeeded',
  'refund.failed',
  /** A second payment was taken for one session and is being refunded. */
  'payment.duplicate',
] as const;

/** One of WEBHOOK_EVENT_TYPES. */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** True when `t` names a known event type. */
export function isWebhookEventType(t: unknown): t is WebhookEventType {
  return typeof t === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(t);
}

/** WeChat's notify retry schedule, in seconds after each failed attempt: 16 attempts over 24 h 4 min. */
export const RETRY_SCHEDULE_S: readonly number[] = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];

/** A 2xx within this long is delivered; anything slower is a failed attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** How much of an answer's body is kept per attempt. */
export const RESPONSE_HEAD_BYTES = 1024;

/** An endpoint's row as the merchant sees it (never with the secret, except right after create or roll). */
export interface WebhookEndpointView {
  id: string;
  url: string;
  /** Subscribed types; empty means every type. */
  events: WebhookEventType[];
  created_at: string;
}

/** One attempt of a delivery, as shown to the merchant. */
export interface WebhookAttemptView {
  attempt: number;
  at: string;
  /** HTTP status of the answer, or null when there was none (refused, timeout, connection error). */
  status: number | null;
  error: string | null;
  response_head: string | null;
  duration_ms: number;
}

/** One event to one endpoint, with its attempts oldest first. */
export interface WebhookDeliveryView {
  id: string;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  url: string;
  order_id: string | null;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_at: string | null;
  last_status: number | null;
  last_error: string | null;
  last_response_head: string | null;
  resend_of: string | null;
  created_at: string;
  updated_at: string;
  attempt_log: WebhookAttemptView[];
}

/** What the merchant API answers for a refused request: {error: {code, message, param}} with this HTTP status. */
export interface WebhookApiError {
  status: 400 | 404 | 409;
  code: string;
  message: string;
  /** The request field at fault, or null. */
  param: string | null;
}

/** Either the value or the error the API answers. */
export type WebhookResult<T> = { ok: true; value: T } | { ok: false; error: WebhookApiError };
