import type { Kysely } from 'kysely';
import type { SandboxTables } from './tables';

export type * from './tables';

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
    .addColumn('coupon_fee', 'integer')
    .addColumn('coupon_type', 'text')
    .addColumn('coupon_id', 'text')
    .addColumn('refunded_fee', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('paid_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sandbox_orders_pk', ['mch_id', 'out_trade_no'])
    .execute();
  // Coupons came later: an older database gets their columns here, probed like final_status below.
  const hasCoupon = await db.selectFrom('sandbox_orders').select('coupon_fee').limit(1).execute().then(() => true, () => false);
  if (!hasCoupon) for (const [col, type] of [['coupon_fee', 'integer'], ['coupon_type', 'text'], ['coupon_id', 'text']] as const) await s.alterTable('sandbox_orders').addColumn(col, type).execute();
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
    .addColumn('snapshot', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  // snapshot (snapshot-page users) came later: an older database gets it here, probed like final_status.
  const hasSnapshot = await db.selectFrom('sandbox_users').select('snapshot').limit(1).execute().then(() => true, () => false);
  if (!hasSnapshot) await s.alterTable('sandbox_users').addColumn('snapshot', 'integer', (c) => c.notNull().defaultTo(0)).execute();
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
    .addColumn('h5_domains', 'text')
    .addColumn('h5_pay', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  // H5 payment came later: an older database gets its merchant columns here, probed like the coupons.
  const hasH5 = await db.selectFrom('sandbox_merchants').select('h5_pay').limit(1).execute().then(() => true, () => false);
  if (!hasH5) for (const [col, type] of [['h5_domains', 'text'], ['h5_pay', 'integer']] as const) await s.alterTable('sandbox_merchants').addColumn(col, type).execute();
  await s
    .createTable('sandbox_mweb').ifNotExists()
    .addColumn('package', 'text', (c) => c.primaryKey())
    .addColumn('mch_id', 'text', (c) => c.notNull())
    .addColumn('out_trade_no', 'text', (c) => c.notNull())
    .addColumn('prepay_id', 'text', (c) => c.notNull())
    .addColumn('client_ip', 'text')
    .addColumn('issued_at', 'text', (c) => c.notNull())
    .execute();
  // The cashier's IP check came later: an older database gets the column here, probed the same way.
  const hasMwebIp = await db.selectFrom('sandbox_mweb').select('client_ip').limit(1).execute().then(() => true, () => false);
  if (!hasMwebIp) await s.alterTable('sandbox_mweb').addColumn('client_ip', 'text').execute();
  await s
    .createTable('sandbox_h5').ifNotExists()
    .addColumn('mch_id', 'text', (c) => c.primaryKey())
    .addColumn('h5_pay', 'integer', (c) => c.notNull())
    .addColumn('refusal', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // The refusal form came later: an older database gets the column here, probed the same way.
  const hasRefusal = await db.selectFrom('sandbox_h5').select('refusal').limit(1).execute().then(() => true, () => false);
  if (!hasRefusal) await s.alterTable('sandbox_h5').addColumn('refusal', 'text').execute();
  const existing = await db.selectFrom('sandbox_users').select('id').where('id', '=', DEFAULT_USER_ID).executeTakeFirst();
  if (!existing) {
    await db
      .insertInto('sandbox_users')
      .values({ id: DEFAULT_USER_ID, name: '测试用户', is_subscribe: 'N', snapshot: 0, created_at: new Date().toISOString() })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
}
