import type { Kysely, Transaction } from 'kysely';
import { getDbHandle } from '../../db';
import { batchedWrite } from '../../db/write-batch';
import type { Database } from '../../db/schema';

/** A database or an open transaction: events and bookkeeping are written inside the change they describe. */
export type DbOrTrx = Kysely<Database> | Transaction<Database>;

/**
 * The one way lib/checkout opens a read-then-write transaction. PostgreSQL: an ordinary transaction
 * (conditional updates and row locks do the rest). SQLite: BEGIN IMMEDIATE, so the write lock is taken
 * up front under the busy timeout; a deferred BEGIN that reads first fails at once with SQLITE_BUSY when
 * another connection (a second process on the same file, a test) wrote in between. The transactions
 * that queue meanwhile share that BEGIN IMMEDIATE and one COMMIT, each in its own savepoint (group
 * commit, lib/db/write-batch.ts): one that throws is undone alone, and each resolves only once its
 * batch is committed and on disk. `fn` gets the engine kind so it can add engine-specific locks
 * (pg_advisory_xact_lock); it must do its database work through the `trx` it is given.
 */
export async function writeTransaction<T>(fn: (trx: Kysely<Database>, kind: 'sqlite' | 'postgres') => Promise<T>): Promise<T> {
  const { db, kind } = await getDbHandle();
  if (kind === 'postgres') return db.transaction().execute((trx) => fn(trx, kind));
  return batchedWrite(db, (conn) => fn(conn, kind));
}
