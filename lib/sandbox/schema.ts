import type { Kysely } from 'kysely';

/**
 * The sandbox's own tables (WeChat's side of the world), kept apart from the app's tables and created
 * here rather than in lib/db/migrations: the app never reads them, and live deployments never create them.
 * Same conventions as the app: ISO-8601 UTC text timestamps, integer fen, 0/1 flags.
 */
export type SandboxState = 'NOTPAY' | 'SUCCESS' | 'REFUND' | 'CLOSED' | 'PAYERROR';

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
  created_at: string;
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
};

export const DEFAULT_USER_ID = 'u_default';

/** Creates every sandbox table and the default user; running it again changes nothing. */
export async function ensureSandboxSchema(db: Kysely<SandboxTables>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('sandbox_orders').ifNotExists()
    .addColumn('out_trade_no', 'text', (c) => c.notNull())
    .addColumn('mch_id', 'text', (c) => c.notNull())
    .addColumn('appid', 'text', (c) => c.notNull())
    .addColumn('params_json', 'text', (c) => c.notNull())
    .addColumn('sign_type', 'text', (c) => c.notNull())
    .addColumn('trade_type', 'text', (c) => c.notNull())
    .addColumn('total_fee', 'integer', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('attach', 'text')
    .addColumn('device_info', 'text')
    .addColumn('notify_url', 'text', (c) => c.notNull())
    .addColumn('openid', 'text')
    .addColumn('product_id', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('prepay_id', 'text', (c) => c.notNull().unique())
    .addColumn('prepay_expires_at', 'text', (c) => c.notNull())
    .addColumn('code_url', 'text', (c) => c.unique())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('transaction_id', 'text', (c) => c.unique())
    .addColumn('time_end', 'text')
    .addColumn('bank_type', 'text')
    .addColumn('is_subscribe', 'text')
    .addColumn('refunded_fee', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('paid_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sandbox_orders_pk', ['mch_id', 'out_trade_no'])
    .execute();
  await s.createIndex('sandbox_orders_created_idx').ifNotExists().on('sandbox_orders').column('created_at').execute();
  await s
    .createTable('sandbox_refunds').ifNotExists()
    .addColumn('out_refund_no', 'text', (c) => c.notNull())
    .addColumn('mch_id', 'text', (c) => c.notNull())
    .addColumn('out_trade_no', 'text', (c) => c.notNull())
    .addColumn('refund_id', 'text', (c) => c.notNull().unique())
    .addColumn('refund_fee', 'integer', (c) => c.notNull())
    .addColumn('total_fee', 'integer', (c) => c.notNull())
    .addColumn('refund_desc', 'text')
    .addColumn('notify_url', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('final_status', 'text')
    .addColumn('settle_at', 'text', (c) => c.notNull())
    .addColumn('success_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sandbox_refunds_pk', ['mch_id', 'out_refund_no'])
    .execute();
  // final_status came after the table first shipped: an older database gets it here. Probed with a read,
  // so a start-up with the column present writes nothing.
  const hasFinal = await db.selectFrom('sandbox_refunds').select('final_status').limit(1).execute().then(() => true, () => false);
  if (!hasFinal) await s.alterTable('sandbox_refunds').addColumn('final_status', 'text').execute();
  await s.createIndex('sandbox_refunds_trade_idx').ifNotExists().on('sandbox_refunds').columns(['mch_id', 'out_trade_no']).execute();
  await s
    .createTable('sandbox_deliveries').ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('mch_id', 'text')
    .addColumn('out_trade_no', 'text', (c) => c.notNull())
    .addColumn('out_refund_no', 'text')
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('body', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_at', 'text')
    .addColumn('duplicate', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_status', 'integer')
    .addColumn('last_reply', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // mch_id came with several merchants: an older database gets it here, probed like final_status.
  const hasMch = await db.selectFrom('sandbox_deliveries').select('mch_id').limit(1).execute().then(() => true, () => false);
  if (!hasMch) await s.alterTable('sandbox_deliveries').addColumn('mch_id', 'text').execute();
  await s.createIndex('sandbox_deliveries_due_idx').ifNotExists().on('sandbox_deliveries').columns(['status', 'next_at']).execute();
  await s.createIndex('sandbox_deliveries_trade_idx').ifNotExists().on('sandbox_deliveries').column('out_trade_no').execute();
  await s
    .createTable('sandbox_attempts').ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('attempt_no', 'integer', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('http_status', 'integer')
    .addColumn('reply', 'text')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('accepted', 'integer', (c) => c.notNull())
    .execute();
  await s.createIndex('sandbox_attempts_delivery_idx').ifNotExists().on('sandbox_attempts').columns(['delivery_id', 'at']).execute();
  await s
    .createTable('sandbox_users').ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('is_subscribe', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await s
    .createTable('sandbox_openids').ifNotExists()
    .addColumn('openid', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('appid', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('sandbox_openids_user_idx').ifNotExists().on('sandbox_openids').columns(['user_id', 'appid']).unique().execute();
  await s
    .createTable('sandbox_codes').ifNotExists()
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('appid', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('openid', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await s
    .createTable('sandbox_requests').ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('api', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('expected_string', 'text')
    .addColumn('expected_sign', 'text')
    .addColumn('received_sign', 'text')
    .addColumn('likely_cause', 'text')
    .addColumn('cause_detail', 'text')
    .execute();
  await s
    .createTable('sandbox_webhook_hits').ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'text')
    .addColumn('headers', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('query', 'text', (c) => c.notNull())
    .addColumn('answered', 'integer', (c) => c.notNull())
    .execute();
  await s.createIndex('sandbox_webhook_hits_wid_idx').ifNotExists().on('sandbox_webhook_hits').column('webhook_id').execute();
  await s
    .createTable('sandbox_merchants').ifNotExists()
    .addColumn('mch_id', 'text', (c) => c.primaryKey())
    .addColumn('appid', 'text', (c) => c.notNull().unique())
    .addColumn('app_secret', 'text', (c) => c.notNull())
    .addColumn('api_key', 'text', (c) => c.notNull())
    .addColumn('sign_type', 'text', (c) => c.notNull())
    .addColumn('oauth_domain', 'text', (c) => c.notNull())
    .addColumn('pay_directories', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('v3_keys', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  const existing = await db.selectFrom('sandbox_users').select('id').where('id', '=', DEFAULT_USER_ID).executeTakeFirst();
  if (!existing) {
    await db
      .insertInto('sandbox_users')
      .values({ id: DEFAULT_USER_ID, name: '测试用户', is_subscribe: 'N', created_at: new Date().toISOString() })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
}
