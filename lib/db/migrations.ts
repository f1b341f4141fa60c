import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { checkoutSessionsMigration } from './migration-0008';

/**
 * One schema for both engines: only types both SQLite and PostgreSQL read the same (text, integer,
 * bigint-free). Migrations are append-only; Kysely's Migrator records applied ones and, on PostgreSQL,
 * holds a lock so concurrently starting instances do not race.
 */
/** Every migration by name, applied in name order (exported so a migration's own test can run it alone). */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_init': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('products')
        .ifNotExists()
        .addColumn('sku', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('price_fen', 'integer', (c) => c.notNull().check(sql`price_fen > 0`))
        .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('orders')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('sku', 'text', (c) => c.notNull().references('products.sku'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('quantity', 'integer', (c) => c.notNull())
        .addColumn('amount_fen', 'integer', (c) => c.notNull().check(sql`amount_fen > 0`))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('buyer_openid', 'text')
        .addColumn('buyer_id', 'text', (c) => c.notNull())
        .addColumn('transaction_id', 'text')
        .addColumn('refunded_fen', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('duplicate_paid', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('paid_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('last_query_at', 'text')
        .execute();
      await db.schema.createIndex('orders_created_idx').ifNotExists().on('orders').columns(['created_at', 'id']).execute();
      await db.schema.createIndex('orders_status_created_idx').ifNotExists().on('orders').columns(['status', 'created_at', 'id']).execute();
      await db.schema.createIndex('orders_openid_idx').ifNotExists().on('orders').column('buyer_openid').execute();
      await db.schema.createIndex('orders_buyer_idx').ifNotExists().on('orders').columns(['buyer_id', 'sku', 'status']).execute();
      await db.schema.createIndex('orders_txn_idx').ifNotExists().on('orders').column('transaction_id').execute();

      await db.schema
        .createTable('payment_attempts')
        .ifNotExists()
        .addColumn('out_trade_no', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id'))
        .addColumn('trade_type', 'text', (c) => c.notNull())
        .addColumn('amount_fen', 'integer', (c) => c.notNull())
        .addColumn('openid', 'text')
        .addColumn('sign_type', 'text', (c) => c.notNull())
        .addColumn('prepay_id', 'text')
        .addColumn('code_url', 'text')
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('transaction_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('attempts_order_idx').ifNotExists().on('payment_attempts').columns(['order_id', 'created_at']).execute();
      await db.schema.createIndex('attempts_status_idx').ifNotExists().on('payment_attempts').columns(['status', 'created_at']).execute();
      await db.schema.createIndex('attempts_txn_idx').ifNotExists().on('payment_attempts').column('transaction_id').execute();

      await db.schema
        .createTable('refunds')
        .ifNotExists()
        .addColumn('out_refund_no', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id'))
        .addColumn('out_trade_no', 'text', (c) => c.notNull().references('payment_attempts.out_trade_no'))
        .addColumn('amount_fen', 'integer', (c) => c.notNull().check(sql`amount_fen > 0`))
        .addColumn('reason', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('origin', 'text', (c) => c.notNull().defaultTo('merchant'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('refund_id', 'text')
        .addColumn('detail', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('refunds_order_idx').ifNotExists().on('refunds').column('order_id').execute();
      await db.schema.createIndex('refunds_status_idx').ifNotExists().on('refunds').columns(['status', 'created_at']).execute();

      await db.schema
        .createTable('payment_events')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text')
        .addColumn('out_trade_no', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('raw', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_order_idx').ifNotExists().on('payment_events').columns(['order_id', 'at']).execute();
      await db.schema.createIndex('events_otn_idx').ifNotExists().on('payment_events').columns(['out_trade_no', 'at']).execute();
    },
  },
  /** Merchant pages (issue 7): today's totals by paid_at, and an openid search paged in created order. */
  '0002_merchant': {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('orders_paid_idx').ifNotExists().on('orders').column('paid_at').execute();
      await db.schema.createIndex('orders_openid_created_idx').ifNotExists().on('orders').columns(['buyer_openid', 'created_at', 'id']).execute();
    },
  },
  /**
   * Floods (issue 11): unverified notifies aggregated per route, code and hour instead of a row each;
   * new orders counted per buyer and per client address for the order-creation rate limit.
   */
  '0004_notify_flood': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('refused_notifies')
        .ifNotExists()
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('hits', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('first_at', 'text', (c) => c.notNull())
        .addColumn('last_at', 'text', (c) => c.notNull())
        .addColumn('last_sender', 'text')
        .addColumn('claimed', 'text')
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('sample', 'text')
        .addPrimaryKeyConstraint('refused_notifies_pk', ['source', 'code', 'bucket'])
        .execute();
      await db.schema.createIndex('refused_notifies_bucket_idx').ifNotExists().on('refused_notifies').column('bucket').execute();

      await db.schema
        .createTable('order_starts')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('buyer_id', 'text', (c) => c.notNull())
        .addColumn('client_ip', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('order_starts_buyer_idx').ifNotExists().on('order_starts').columns(['buyer_id', 'at']).execute();
      await db.schema.createIndex('order_starts_ip_idx').ifNotExists().on('order_starts').columns(['client_ip', 'at']).execute();
      await db.schema.createIndex('order_starts_at_idx').ifNotExists().on('order_starts').column('at').execute();
    },
  },
  /**
   * Issue 11: a refund WeChat answered CHANGE (退款异常) is `abnormal`, not `failed`. Before, it was booked
   * failed with a detail starting "CHANGE:", which freed its amount to be refunded again although the
   * money had left the merchant's account. Re-books those rows; refunded_fen is untouched (neither state
   * adds to it). Conditional on the old state, so applying it again changes nothing.
   */
  '0005_refund_change': {
    async up(db: Kysely<any>) {
      await db.updateTable('refunds').set({ status: 'abnormal' }).where('status', '=', 'failed').where('detail', 'like', 'CHANGE:%').execute();
    },
  },
  /**
   * Merchant login (issue 11): failure counters shared by every instance, server-side sessions that
   * logout and a password change can end, and the browsers the merchant has logged in from.
   */
  '0003_merchant_auth': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('merchant_login_throttle')
        .ifNotExists()
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('window_start', 'text', (c) => c.notNull())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('login_throttle_window_idx').ifNotExists().on('merchant_login_throttle').column('window_start').execute();

      await db.schema
        .createTable('merchant_sessions')
        .ifNotExists()
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('password_fp', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('merchant_devices')
        .ifNotExists()
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_login_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  /**
   * Issue 13 part B: signed webhooks with a durable outbox. An event and one delivery per subscribed
   * endpoint are written inside the transaction of the state change they report (lib/checkout/webhooks
   * emitEvent), so a committed change always has its deliveries and a rolled-back one never does. The
   * deliverer claims due rows (next_at) with a lease (locked_until, claimed_by) and records every attempt.
   * Endpoints keep their signing secret in clear: HMAC needs the secret itself, not a hash of it.
   */
  '0007_webhooks': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('webhook_endpoints')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('disabled_at', 'text')
        .execute();

      await db.schema
        .createTable('webhook_events')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('order_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_events_order_idx').ifNotExists().on('webhook_events').columns(['order_id', 'created_at']).execute();

      await db.schema
        .createTable('webhook_deliveries')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('event_id', 'text', (c) => c.notNull().references('webhook_events.id'))
        .addColumn('endpoint_id', 'text', (c) => c.notNull().references('webhook_endpoints.id'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_at', 'text')
        .addColumn('locked_until', 'text')
        .addColumn('claimed_by', 'text')
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('last_response_head', 'text')
        .addColumn('resend_of', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_deliveries_due_idx').ifNotExists().on('webhook_deliveries').columns(['status', 'next_at']).execute();
      await db.schema.createIndex('webhook_deliveries_endpoint_idx').ifNotExists().on('webhook_deliveries').columns(['endpoint_id', 'created_at']).execute();
      await db.schema.createIndex('webhook_deliveries_event_idx').ifNotExists().on('webhook_deliveries').column('event_id').execute();

      await db.schema
        .createTable('webhook_attempts')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('delivery_id', 'text', (c) => c.notNull().references('webhook_deliveries.id'))
        .addColumn('attempt_no', 'integer', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('error', 'text')
        .addColumn('response_head', 'text')
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('instance', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_attempts_delivery_idx').ifNotExists().on('webhook_attempts').columns(['delivery_id', 'at']).execute();
    },
  },
  /** Issue 13: checkout sessions (one order model for shop links and the API), API keys, Idempotency-Key records. */
  '0008_checkout_sessions': checkoutSessionsMigration,
  /**
   * Issue 12 (coupons): what the buyer paid of a paid attempt (cash_fee / amount.payer_total), which a
   * coupon makes less than amount_fen. NULL on attempts paid before, and while unpaid. Adding a nullable
   * column is a metadata change on both engines: no row is rewritten.
   */
  '0009_attempt_cash_fee': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('payment_attempts').addColumn('cash_fen', 'integer').execute();
    },
  },
  /**
   * Issue 12 (H5 payment, MWEB): an MWEB attempt's mweb_url and when WeChat issued it (it lives 5
   * minutes, so a re-tap must know its age), and `pay_capabilities`, what WeChat told this merchant it
   * may not do (NO_AUTH for H5), shared by every instance on the database.
   */
  '0010_mweb': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('payment_attempts').addColumn('mweb_url', 'text').execute();
      await db.schema.alterTable('payment_attempts').addColumn('mweb_url_at', 'text').execute();
      await db.schema
        .createTable('pay_capabilities')
        .ifNotExists()
        .addColumn('capability', 'text', (c) => c.notNull())
        .addColumn('mch_id', 'text', (c) => c.notNull())
        .addColumn('refused_at', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pay_capabilities_pk', ['capability', 'mch_id'])
        .execute();
    },
  },
  /**
   * Issue 12 (H5 payment review): the buyer IP an attempt was placed for. WeChat's H5 cashier refuses an
   * mweb_url opened from another IP (网络环境未能通过安全验证), so a re-tap from another network must get
   * a fresh trade, not the stored URL. Nullable (a metadata change on both engines): older attempts have none.
   */
  '0011_attempt_client_ip': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('payment_attempts').addColumn('client_ip', 'text').execute();
    },
  },
  /**
   * Issue 15 (speed): orders_openid_idx (buyer_openid) is a prefix of orders_openid_created_idx
   * (buyer_openid, created_at, id), which serves every query the shorter one did; yet each payment,
   * which sets buyer_openid, rewrote both (on SQLite about a tenth of a payment batch's pages).
   */
  '0012_drop_orders_openid_idx': {
    async up(db: Kysely<any>) {
      await db.schema.dropIndex('orders_openid_idx').ifExists().execute();
    },
  },
};

class StaticProvider implements MigrationProvider {
  async getMigrations() {
    return MIGRATIONS;
  }
}

/**
 * Applies every pending migration (or those up to and including `to`, for tests that need an older
 * schema with data in it); applying twice changes nothing. Throws on the first failure.
 */
export async function migrate(db: Kysely<any>, to?: string): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = to ? await migrator.migrateTo(to) : await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Which migrations the database has compared with the ones this code ships (/api/ready). */
export interface MigrationStatus {
  /** Every shipped migration is applied and the database knows none this code does not. */
  ok: boolean;
  applied: number;
  shipped: number;
  /** Shipped but not applied (start-up had not finished, or failed). */
  pending: string[];
  /** Applied but not shipped: the database was migrated by a newer version of the app. */
  unknown: string[];
}

/**
 * Reads Kysely's migration table (no lock taken, nothing written) and compares it with MIGRATIONS. A
 * database never migrated has no table yet: everything is pending.
 */
export async function migrationStatus(db: Kysely<any>): Promise<MigrationStatus> {
  const shipped = Object.keys(MIGRATIONS).sort();
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  const names = tables.some((t) => t.name === 'kysely_migration')
    ? (await db.selectFrom('kysely_migration').select('name').execute()).map((r: { name: string }) => r.name)
    : [];
  const applied = new Set(names);
  const pending = shipped.filter((n) => !applied.has(n));
  const unknown = names.filter((n) => !(n in MIGRATIONS)).sort();
  return { ok: pending.length === 0 && unknown.length === 0, applied: names.length, shipped: shipped.length, pending, unknown };
}
