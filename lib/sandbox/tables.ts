/**
 * The sandbox's own tables (WeChat's side of the world), kept apart from the app's tables and created
 * by ./schema.ts rather than in lib/db/migrations: the app never reads them, and live deployments never create them.
 * Same conventions as the app: ISO-8601 UTC text timestamps, integer fen, 0/1 flags.
 */
/** USERPAYING: the buyer is still paying (password, bank); PAYERROR: the payment failed, for good (a new out_trade_no is needed). */
export type SandboxState = 'NOTPAY' | 'USERPAYING' | 'SUCCESS' | 'REFUND' | 'CLOSED' | 'PAYERROR';

export interface SandboxOrdersTable {
  out_trade_no: string;
  mch_id: string;
  appid: string;
  /** JSON of the business fields of the unifiedorder request: an identical re-submission compares equal. */
  params_json: string;
  sign_type: string;
  trade_type: string;
  total_fee: number;
  body: string;
  attach: string | null;
  device_info: string | null;
  notify_url: string;
  /** JSAPI: the openid of the request; NATIVE: who scanned and paid (set on payment). */
  openid: string | null;
  product_id: string | null;
  /** time_expire of the request as an ISO instant (null: WeChat's default window). */
  expires_at: string | null;
  prepay_id: string;
  prepay_expires_at: string;
  code_url: string | null;
  state: SandboxState;
  transaction_id: string | null;
  time_end: string | null;
  bank_type: string | null;
  is_subscribe: string | null;
  /** Fen a coupon paid of total_fee (the buyer paid the rest, cash_fee); null: no coupon. */
  coupon_fee: number | null;
  /** CASH (充值代金券) or NO_CASH (免充值券); null: no coupon. */
  coupon_type: string | null;
  coupon_id: string | null;
  refunded_fee: number;
  paid_at: string | null;
  created_at: string;
  updated_at: string;
}

export type SandboxRefundStatus = 'PROCESSING' | 'SUCCESS' | 'REFUNDCLOSE' | 'CHANGE';

export interface SandboxRefundsTable {
  out_refund_no: string;
  mch_id: string;
  out_trade_no: string;
  refund_id: string;
  refund_fee: number;
  total_fee: number;
  refund_desc: string | null;
  notify_url: string;
  status: SandboxRefundStatus;
  /** How it ends when it settles: null is SUCCESS; REFUNDCLOSE or CHANGE when a fault asked for it. */
  final_status: SandboxRefundStatus | null;
  /** When WeChat finishes the refund (PROCESSING -> SUCCESS); scaled by SANDBOX_TIME_SCALE. */
  settle_at: string;
  success_at: string | null;
  created_at: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface SandboxDeliveriesTable {
  id: string;
  /** `pay` (payment notify) or `refund` (refund notify). */
  kind: string;
  /** The merchant whose order it is (out_trade_no is unique per merchant only); null on rows older than several merchants. */
  mch_id: string | null;
  out_trade_no: string;
  out_refund_no: string | null;
  url: string;
  /** The XML posted; built once, so every retry sends the same notify (as WeChat does). */
  body: string | null;
  status: DeliveryStatus;
  attempts: number;
  next_at: string | null;
  /** DUPLICATE_NOTIFY fault: the first attempt posts twice concurrently. */
  duplicate: number;
  last_status: number | null;
  last_reply: string | null;
  created_at: string;
  updated_at: string;
}

export interface SandboxAttemptsTable {
  id: string;
  delivery_id: string;
  attempt_no: number;
  at: string;
  http_status: number | null;
  reply: string | null;
  error: string | null;
  duration_ms: number;
  accepted: number;
}

export interface SandboxUsersTable {
  id: string;
  name: string;
  /** `Y`/`N`: does this user follow the official account (notify's is_subscribe). */
  is_subscribe: string;
  /**
   * 1: a snapshot-page user (快照页模式虚拟账号): WeChat's OAuth token answer carries is_snapshotuser: 1
   * for it, with a virtual openid that is not the person's. 0: a real user (the field is then absent).
   */
  snapshot: number;
  created_at: string;
}

export interface SandboxOpenidsTable {
  openid: string;
  user_id: string;
  appid: string;
}

export interface SandboxCodesTable {
  code: string;
  appid: string;
  user_id: string;
  openid: string;
  scope: string;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

/**
 * A request WeChat refused with return_code=FAIL (the signature debugger, lib/sandbox/requests.ts). Only
 * the newest REQUESTS_KEPT are kept. The API key is never stored: the expected string is masked.
 */
export interface SandboxRequestsTable {
  /** Sorts by arrival: zero-padded epoch ms, a per-process sequence, random bytes. */
  id: string;
  at: string;
  api: string;
  outcome: string;
  /** The return_msg on the wire (签名错误, XML格式错误, ...). */
  reason: string | null;
  expected_string: string | null;
  expected_sign: string | null;
  received_sign: string | null;
  likely_cause: string | null;
  /** Language-neutral detail of the cause (field names, algorithm), shown beside its sentence. */
  cause_detail: string | null;
}

/**
 * One POST to the sandbox's webhook receiver (/sandbox/webhooks/receive, lib/sandbox/webhook-receiver.ts):
 * what a developer's endpoint would have seen. Only the newest WEBHOOK_HITS_KEPT are kept.
 */
export interface SandboxWebhookHitsTable {
  /** Sorts by arrival (newRowId). */
  id: string;
  at: string;
  /** The webhook-id header: the event id a receiver deduplicates on. */
  webhook_id: string | null;
  /** The request's headers as a JSON object (lower-case names). */
  headers: string;
  /** The body as received (at most 64 KB kept). */
  body: string;
  /** The query string the endpoint URL carried (status=, fail_first=). */
  query: string;
  /** What the receiver answered. */
  answered: number;
}

/**
 * A merchant besides the checkout's own (lib/sandbox/merchants.ts): from SANDBOX_MERCHANTS_FILE
 * (source `file`, rewritten at each start) or created on the dashboard / JSON API (source `api`).
 */
export interface SandboxMerchantsTable {
  mch_id: string;
  appid: string;
  app_secret: string;
  api_key: string;
  sign_type: string;
  oauth_domain: string;
  /** JSON array of directory URLs. */
  pay_directories: string;
  name: string;
  source: string;
  /** JSON of its API v3 keys (SandboxV3Keys), generated on first v3 use. */
  v3_keys: string | null;
  /** JSON array of its H5 payment domains (host names); null: its oauth_domain's host. */
  h5_domains: string | null;
  /** 0: no H5 payment permission (MWEB answers NO_AUTH); null or 1: granted. */
  h5_pay: number | null;
  created_at: string;
}

/** One mweb_url / h5_url the sandbox handed out: WeChat's H5 cashier honours it 5 minutes from issued_at. */
export interface SandboxMwebTable {
  /** The URL's `package`, its own id. */
  package: string;
  mch_id: string;
  out_trade_no: string;
  prepay_id: string;
  /** The buyer IP the order was placed for (spbill_create_ip / payer_client_ip); null on URLs issued before it was kept. */
  client_ip: string | null;
  issued_at: string;
}

/** The H5 permission switch (dashboard, POST /sandbox/sim/h5) for any merchant, the checkout's own included: it wins over the merchant's setting. */
export interface SandboxH5Table {
  mch_id: string;
  h5_pay: number;
  /** How v2 refuses MWEB without permission: 'NOAUTH' (signed err_code); null or 'RETURN_FAIL': unsigned return_code=FAIL. */
  refusal: string | null;
  updated_at: string;
}

export type SandboxTables = {
  sandbox_merchants: SandboxMerchantsTable;
  sandbox_orders: SandboxOrdersTable;
  sandbox_refunds: SandboxRefundsTable;
  sandbox_deliveries: SandboxDeliveriesTable;
  sandbox_attempts: SandboxAttemptsTable;
  sandbox_users: SandboxUsersTable;
  sandbox_openids: SandboxOpenidsTable;
  sandbox_codes: SandboxCodesTable;
  sandbox_requests: SandboxRequestsTable;
  sandbox_webhook_hits: SandboxWebhookHitsTable;
  sandbox_mweb: SandboxMwebTable;
  sandbox_h5: SandboxH5Table;
};
