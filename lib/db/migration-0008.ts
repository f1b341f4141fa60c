import { type Kysely, type Migration, SqliteAdapter, sql } from 'kysely';

/*
 * 0008_checkout_sessions (issue 13): one order model for shop links and the sessions API.
 *  - orders gain merchant_reference (unique when set), success_url, metadata (JSON text), expires_at,
 *    origin ('shop' | 'api') and closed_reason ('expired' | 'merchant' | 'api');
 *  - sku and buyer_id become nullable (an API session has neither);
 *  - api_keys (sha256 of each secret key) and api_idempotency (Idempotency-Key records, 24 h).
 *
 * PostgreSQL drops NOT NULL in place, inside the Migrator's transaction. SQLite cannot drop a NOT NULL,
 * so the table is rebuilt the way https://www.sqlite.org/lang_altertable.html ("Making Other Kinds Of
 * Table Schema Changes") prescribes: foreign keys off OUTSIDE a transaction (the pragma is a no-op
 * inside one), then in one transaction create orders_new, copy, drop, rename, recreate the indexes and
 * run foreign_key_check, commit, foreign keys back on. payment_attempts and refunds keep referring to
 * "orders" by name, so after the rename their foreign keys point at the new table. Kysely's Migrator
 * runs SQLite migrations outside a transaction (the adapter has no transactional DDL), which is what
 * lets this migration manage its own.
 */

/** The orders indexes of 0001 and 0002, recreated after the SQLite rebuild (names unchanged). */
const ORDER_INDEXES: Array<[string, string[]]> = [
  ['orders_created_idx', ['created_at', 'id']],
  ['orders_status_created_idx', ['status', 'created_at', 'id']],
  ['orders_openid_idx', ['buyer_openid']],
  ['orders_buyer_idx', ['buyer_id', 'sku', 'status']],
  ['orders_txn_idx', ['transaction_id']],
  ['orders_paid_idx', ['paid_at']],
  ['orders_openid_created_idx', ['buyer_openid', 'created_at', 'id']],
];

const OLD_COLUMNS = [
  'id', 'sku', 'name', 'quantity', 'amount_fen', 'status', 'buyer_openid', 'buyer_id', 'transaction_id', 'refunded_fen',
  'duplicate_paid', 'created_at', 'paid_at', 'updated_at', 'last_query_at',
];

async function rebuildSqliteOrders(db: Kysely<any>): Promise<void> {
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await sql`begin immediate`.execute(db);
    try {
      await sql`create table orders_new (
        id text primary key,
        sku text references products (sku),
        name text not null,
        quantity integer not null,
        amount_fen integer not null check (amount_fen > 0),
        status text not null,
        buyer_openid text,
        buyer_id text,
        transaction_id text,
        refunded_fen integer default 0 not null,
        duplicate_paid integer default 0 not null,
        created_at text not null,
        paid_at text,
        updated_at text not null,
        last_query_at text,
        merchant_reference text,
        success_url text,
        metadata text,
        expires_at text,
        origin text default 'shop' not null,
        closed_reason text
      )`.execute(db);
      const cols = sql.join(OLD_COLUMNS.map((c) => sql.ref(c)));
      await sql`insert into orders_new (${cols}) select ${cols} from orders`.execute(db);
      await sql`drop table orders`.execute(db);
      await sql`alter table orders_new rename to orders`.execute(db);
      for (const [name, columns] of ORDER_INDEXES) await db.schema.createIndex(name).on('orders').columns(columns).execute();
      await addOrderIndexes(db);
      const broken = await sql<Record<string, unknown>>`pragma foreign_key_check`.execute(db);
      if (broken.rows.length > 0) throw new Error(`0008_checkout_sessions: foreign_key_check found ${broken.rows.length} broken references: ${JSON.stringify(broken.rows.slice(0, 5))}`);
      await sql`commit`.execute(db);
    } catch (e) {
      await sql`rollback`.execute(db).catch(() => {});
      throw e;
    }
  } finally {
    await sql`pragma foreign_keys = on`.execute(db);
  }
}

async function alterPostgresOrders(db: Kysely<any>): Promise<void> {
  await sql`alter table orders alter column sku drop not null`.execute(db);
  await sql`alter table orders alter column buyer_id drop not null`.execute(db);
  await db.schema.alterTable('orders').addColumn('merchant_reference', 'text').execute();
  await db.schema.alterTable('orders').addColumn('success_url', 'text').execute();
  await db.schema.alterTable('orders').addColumn('metadata', 'text').execute();
  await db.schema.alterTable('orders').addColumn('expires_at', 'text').execute();
  await db.schema.alterTable('orders').addColumn('origin', 'text', (c) => c.notNull().defaultTo('shop')).execute();
  await db.schema.alterTable('orders').addColumn('closed_reason', 'text').execute();
  await addOrderIndexes(db);
}

/** merchant_reference is unique (NULLs are distinct on both engines, so shop orders never collide). */
async function addOrderIndexes(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('orders_merchant_ref_idx').unique().on('orders').column('merchant_reference').execute();
  // The reconciler's sweep for pending orders whose window ended.
  await db.schema.createIndex('orders_status_expires_idx').on('orders').columns(['status', 'expires_at']).execute();
}

/**
 * Orders closed before this migration: tell expired from merchant-closed by the close event the old
 * code wrote ("order closed: payment window expired" / "... nothing left to pay ..." / "... by the merchant").
 */
async function backfillClosedReason(db: Kysely<any>): Promise<void> {
  const closedBy = (reason: string, patterns: string[]) =>
    db.updateTable('orders').set({ closed_reason: reason }).where('status', '=', 'closed').where('closed_reason', 'is', null)
      .where(({ exists, selectFrom, or, eb }) => exists(
        selectFrom('payment_events').select('id').whereRef('payment_events.order_id', '=', 'orders.id').where('source', '=', 'close')
          .where(() => or(patterns.map((p) => eb('detail', 'like', p)))),
      ))
      .execute();
  await closedBy('merchant', ['order closed: closed by the merchant%']);
  await closedBy('expired', ['order closed: payment window expired%', 'order closed: nothing left to pay%']);
}

async function createApiTables(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('livemode', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema
    .createTable('api_idempotency')
    .ifNotExists()
    .addColumn('idem_key', 'text', (c) => c.primaryKey())
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('body_hash', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('response_status', 'integer')
    .addColumn('response_body', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('api_idempotency_created_idx').ifNotExists().on('api_idempotency').column('created_at').execute();
}

/** See the comment at the top of this file. */
export const checkoutSessionsMigration: Migration = {
  async up(db: Kysely<any>) {
    if (db.getExecutor().adapter instanceof SqliteAdapter) await rebuildSqliteOrders(db);
    else await alterPostgresOrders(db);
    await backfillClosedReason(db);
    await createApiTables(db);
  },
};
