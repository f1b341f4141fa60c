import type { Generated, Selectable } from 'kysely';

/**
 * Table types (docs/architecture.md, "Data"). Timestamps are ISO-8601 UTC strings (`2026-11-22T12:00:00.000Z`):
 * they sort as text and read the same on SQLite and PostgreSQL. Booleans are 0/1 integers for the
 * same reason. Money is integer fen.
 */
export interface ProductsTable {
  sku: string;
  name: string;
  description: string;
  price_fen: number;
  active: Generated<number>;
  created_at: string;
}

export type OrderStatus = 'pending' | 'paid' | 'closed' | 'partially_refunded' | 'refunded';

/** Where an order was made: a buyer at a shop link (/shop/[sku]), or a merchant's system through the sessions API. */
export type OrderOrigin = 'shop' | 'api';

/**
 * Why a pending order was closed, so the sessions API can tell `expired` from `closed`: its payment window
 * ended (the reconciler), or the merchant (pages) or an API call closed it. Null on orders closed before
 * migration 0006 recorded it (and on orders never closed).
 */
export type ClosedReason = 'expired' | 'merchant' | 'api';

/**
 * One order = one checkout session (a shop-link purchase and an API session are the same row; see
 * docs/architecture.md, "Data"). Ids are `cs_...` since migration 0006, `o_...` before.
 */
export interface OrdersTable {
  id: string;
  /** The product bought at a shop link; null for an API session (it has a description, not a product). */
  sku: string | null;
  name: string;
  quantity: number;
  amount_fen: number;
  status: OrderStatus;
  /** The WeChat buyer's openid (JSAPI) or the openid WeChat reported on payment (NATIVE). */
  buyer_openid: string | null;
  /** Random id kept in the buyer's session: how a desktop buyer without an openid owns a shop order. Null for API sessions. */
  buyer_id: string | null;
  transaction_id: string | null;
  refunded_fen: Generated<number>;
  /** 1 once a second attempt was also paid (the buyer paid twice): shown to the merchant. */
  duplicate_paid: Generated<number>;
  created_at: string;
  paid_at: string | null;
  updated_at: string;
  /** Last time a status poll asked WeChat (orderquery) about this order: rate limit across pollers. */
  last_query_at: string | null;
  /** The merchant's own order id (API sessions; unique when set): the key of create-or-return-existing. */
  merchant_reference: string | null;
  /** Where the buyer goes after paying (`?session_id=` appended), API sessions only. */
  success_url: string | null;
  /** The API caller's metadata: a JSON object of at most 20 string pairs, as text. */
  metadata: string | null;
  /** End of the payment window: no WeChat attempt outlives it, and a pending order past it reads `expired`. Null on orders from before 0006. */
  expires_at: string | null;
  origin: Generated<OrderOrigin>;
  closed_reason: ClosedReason | null;
}

/** MWEB: H5 payment, a phone browser outside WeChat sent to WeChat's H5 cashier page (mweb_url). */
export type TradeType = 'JSAPI' | 'NATIVE' | 'MWEB';
export type AttemptStatus = 'open' | 'paid' | 'closed' | 'failed';

export interface PaymentAttemptsTable {
  out_trade_no: string;
  order_id: string;
  trade_type: TradeType;
  amount_fen: number;
  openid: string | null;
  sign_type: string;
  prepay_id: string | null;
  code_url: string | null;
  expires_at: string;
  status: AttemptStatus;
  transaction_id: string | null;
  /**
   * What the buyer paid, once paid (WeChat's cash_fee / v3 amount.payer_total): less than amount_fen
   * when a coupon paid the rest. NULL while unpaid, and on attempts paid before migration 0009.
   */
  cash_fen: number | null;
  /** MWEB: WeChat's H5 cashier URL (mweb_url / v3 h5_url) and when it was issued: it lives 5 minutes (migration 0010). */
  mweb_url: string | null;
  mweb_url_at: string | null;
  /**
   * The buyer IP sent as spbill_create_ip / payer_client_ip when the attempt was claimed (migration 0011):
   * WeChat's H5 cashier opens an mweb_url only from that IP, so one is reused only for the same IP.
   * NULL on attempts from before it was kept.
   */
  client_ip: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * A WeChat Pay product this merchant was refused (NO_AUTH): `capability` `mweb` is H5 payment. One row
 * per capability and mch_id, shared by every instance; payments/capabilities.ts decides how long it counts.
 */
export interface PayCapabilitiesTable {
  capability: string;
  mch_id: string;
  refused_at: string;
  /** WeChat's words (err_code_des / message), for the operator. */
  detail: string;
}

/**
 * `abnormal`: WeChat answered CHANGE (退款异常): the money left the merchant's account but did not reach
 * the buyer; the merchant settles it in the WeChat Pay merchant portal. It counts against what may
 * still be refunded, not toward orders.refunded_fen (migration 0005_refund_change re-books old ones).
 */
export type RefundStatus = 'processing' | 'succeeded' | 'failed' | 'abnormal';

export interface RefundsTable {
  out_refund_no: string;
  order_id: string;
  out_trade_no: string;
  amount_fen: number;
  reason: string;
  /** `merchant` (merchant pages), `api` (the sessions API) or `duplicate` (automatic, second payment of one order). */
  origin: string;
  status: RefundStatus;
  refund_id: string | null;
  detail: string | null;
  created_at: string;
  updated_at: string;
}

export type EventSource = 'notify' | 'query' | 'close' | 'refund' | 'refund_notify' | 'merchant';
export type EventOutcome = 'applied' | 'duplicate' | 'rejected' | 'error';

export interface PaymentEventsTable {
  id: string;
  order_id: string | null;
  out_trade_no: string | null;
  source: EventSource;
  outcome: EventOutcome;
  detail: string;
  /** Capped copy of the inbound payload (XML or JSON) for the merchant's timeline. */
  raw: string | null;
  at: string;
}

/**
 * Unverified notifies (bad or missing signature, not XML, oversized, GET probes) are not WeChat's word
 * and may be a flood: they are kept here as one row per route, reason and hour with a hit count, a short
 * head of the first body and the last sender, never a row per request (lib/checkout/kernel/refusals.ts).
 */
export interface RefusedNotifiesTable {
  /** `notify` or `refund_notify`: which route refused it. */
  source: 'notify' | 'refund_notify';
  /** The refusal code (BAD_SIGN, XML_MALFORMED, TOO_LARGE, ...). */
  code: string;
  /** Start of the hour (ISO UTC) the hits fall in. */
  bucket: string;
  hits: number;
  first_at: string;
  last_at: string;
  /** Client address of the latest hit (the client-IP rule; forgeable without TRUST_PROXY). */
  last_sender: string | null;
  /** The out_trade_no / out_refund_no the latest hit claimed, unverified (at most 64 characters). */
  claimed: string | null;
  /** The first hit's reason text (at most 200 characters). */
  detail: string;
  /** The first hit's body head (at most 256 bytes). */
  sample: string | null;
}

/** One row per new order startPayment made: what the order-creation rate limit counts (pruned after the window). */
export interface OrderStartsTable {
  id: string;
  order_id: string;
  buyer_id: string;
  client_ip: string;
  at: string;
}

/**
 * Merchant login failures in the current window, per client key (`ip:<address or IPv6 /64>`,
 * `dev:<hash of a known browser>`) and `*` for all untrusted clients together. A row whose window is
 * over counts as empty and is deleted by the next login attempt.
 */
export interface MerchantLoginThrottleTable {
  key: string;
  window_start: string;
  failures: number;
}

/** A merchant login. The cookie holds the id; only its sha256 is stored, so reading the table logs nobody in. */
export interface MerchantSessionsTable {
  id_hash: string;
  /** HMAC of MERCHANT_PASSWORD at login: a different password now means the session is over. */
  password_fp: string;
  created_at: string;
  /** Refreshed on activity (at most once a minute); idle expiry counts from here. */
  last_seen_at: string;
  /** Absolute end, whatever the activity. */
  expires_at: string;
}

/** A browser the merchant has logged in from (sha256 of the id in its cookie): exempt from the all-clients cap. */
export interface MerchantDevicesTable {
  id_hash: string;
  created_at: string;
  last_login_at: string;
}

/**
 * A merchant's webhook endpoint (migration 0007_webhooks). `events` is a JSON array of event types, `[]`
 * meaning every type. `secret` (whsec_ + base64) is stored as is: signing needs the secret itself.
 * Deleting an endpoint sets `disabled_at`; the row stays so its deliveries keep their history.
 */
export interface WebhookEndpointsTable {
  id: string;
  url: string;
  events: string;
  secret: string;
  created_at: string;
  updated_at: string;
  disabled_at: string | null;
}

/** One event, written in the transaction of the change it reports; `payload` is the exact body every delivery sends. */
export interface WebhookEventsTable {
  id: string;
  type: string;
  payload: string;
  order_id: string | null;
  created_at: string;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event to one endpoint: the outbox row the deliverer claims, sends and reschedules. */
export interface WebhookDeliveriesTable {
  id: string;
  event_id: string;
  endpoint_id: string;
  status: WebhookDeliveryStatus;
  attempts: Generated<number>;
  /** When the next attempt is due (null once delivered or failed). */
  next_at: string | null;
  /** The claim's lease: no other instance takes the row before this (null when not claimed). */
  locked_until: string | null;
  /** Which instance holds the claim (host:pid:random). */
  claimed_by: string | null;
  last_status: number | null;
  last_error: string | null;
  /** The first 1 KB of the last answer's body. */
  last_response_head: string | null;
  /** The delivery a Resend copied (same event, same endpoint). */
  resend_of: string | null;
  created_at: string;
  updated_at: string;
}

/** Every attempt of a delivery: HTTP status or the error, the answer's first 1 KB, how long it took. */
export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  attempt_no: number;
  at: string;
  status_code: number | null;
  error: string | null;
  response_head: string | null;
  duration_ms: number;
  /** The instance that made it (claimed_by). */
  instance: string;
}

/** A secret API key of the sessions API: only its sha256 is kept (the key itself is shown once). */
export interface ApiKeysTable {
  id: string;
  name: string;
  /** sha256 hex of the whole key: what a bearer token is looked up by. */
  key_hash: string;
  /** The key's first characters (`sk_test_AbCd`), so the merchant can tell keys apart. */
  prefix: string;
  /** 1 for `sk_live_` keys (made in live mode), 0 for `sk_test_`. */
  livemode: number;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/**
 * Idempotency-Key records of the sessions API, kept 24 hours: the request's fingerprint and, once it
 * finished, the answer replayed to a retry with the same key.
 */
export interface ApiIdempotencyTable {
  idem_key: string;
  /** `POST /api/v1/checkout/sessions` and the like: a key is bound to one operation. */
  operation: string;
  /** sha256 hex of the canonical JSON body: the same key with another body is refused. */
  body_hash: string;
  /** `processing` while the first request runs, `done` once its answer is stored. */
  state: 'processing' | 'done';
  response_status: number | null;
  response_body: string | null;
  created_at: string;
}

export interface Database {
  products: ProductsTable;
  orders: OrdersTable;
  payment_attempts: PaymentAttemptsTable;
  refunds: RefundsTable;
  payment_events: PaymentEventsTable;
  refused_notifies: RefusedNotifiesTable;
  order_starts: OrderStartsTable;
  merchant_login_throttle: MerchantLoginThrottleTable;
  merchant_sessions: MerchantSessionsTable;
  merchant_devices: MerchantDevicesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  api_keys: ApiKeysTable;
  api_idempotency: ApiIdempotencyTable;
  pay_capabilities: PayCapabilitiesTable;
}

export type Product = Selectable<ProductsTable>;
export type Order = Selectable<OrdersTable>;

/**
 * Every column of `orders`, for statements that return the whole row but must name its columns: a
 * PostgreSQL named statement returning `*` fails once another instance's migration adds a column
 * ("cached plan must not change result type"; lib/db/pg-named.ts).
 */
export const ORDER_COLUMNS = [
  'id', 'sku', 'name', 'quantity', 'amount_fen', 'status', 'buyer_openid', 'buyer_id', 'transaction_id', 'refunded_fen', 'duplicate_paid',
  'created_at', 'paid_at', 'updated_at', 'last_query_at', 'merchant_reference', 'success_url', 'metadata', 'expires_at', 'origin', 'closed_reason',
] as const satisfies ReadonlyArray<keyof OrdersTable>;
// A column added to OrdersTable and not to the list fails to compile here.
const _everyOrderColumn: Exclude<keyof OrdersTable, (typeof ORDER_COLUMNS)[number]> extends never ? true : never = true;
void _everyOrderColumn;
export type PaymentAttempt = Selectable<PaymentAttemptsTable>;
export type Refund = Selectable<RefundsTable>;
export type ApiKey = Selectable<ApiKeysTable>;
export type { Generated };
