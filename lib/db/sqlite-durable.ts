import { open } from 'node:fs/promises';
import type BetterSqlite3 from 'better-sqlite3';
import { type DatabaseConnection, type Driver, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';

/*
 * SQLite for a busy server, without giving up "a commit that answered is on disk".
 *
 * better-sqlite3 is synchronous: with synchronous=FULL every COMMIT fsyncs the WAL on the event loop,
 * about 2 ms on the machine this was measured on, during which the whole server (every request in
 * flight, /api/health too) stands still; and Kysely's SQLite driver prepares every statement anew on
 * every query. Here instead:
 *
 * - the connection runs synchronous=NORMAL (SQLite still syncs at checkpoints, and WAL with NORMAL is
 *   never corrupted by a power cut; it may only lose the last commits), and
 * - every connection use that committed a write is not handed back to its caller until the WAL has
 *   been fsynced, by fs in libuv's thread pool, off the event loop. Commits that land while an fsync
 *   is running share the next one (group commit): one fsync covers every commit before it started.
 *
 * So a caller still learns of its commit only once it is on disk (what FULL promised: a notify
 * answered SUCCESS survives a power cut), while other requests keep running during the fsync.
 * Prepared statements are cached by SQL text.
 */

/** Prepared statements kept per connection; the app has a few hundred distinct queries at most. */
const STATEMENT_CACHE = 500;

/** What durability has done so far, for tests and the bench: commits waited for, fsyncs run. */
export interface DurabilityStats {
  /** Connection uses that committed a write and waited for an fsync before returning. */
  durableCommits: number;
  /** fsyncs of the WAL (or the database file) actually run. */
  fsyncs: number;
}

/**
 * Group fsync of one file: request() resolves once an fsync that STARTED after the call has finished,
 * so everything written before the call is on disk. Concurrent requests share fsyncs: while one runs,
 * every new request waits for the single next one.
 */
export class GroupSync {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  /** fsyncs run so far. */
  count = 0;

  constructor(private readonly fsyncOnce: () => Promise<void>) {}

  request(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    const after = this.running.catch(() => {});
    this.queued = after.then(() => {
      this.queued = null;
      return this.start();
    });
    return this.queued;
  }

  private start(): Promise<void> {
    this.count++;
    const p: Promise<void> = this.fsyncOnce().finally(() => {
      if (this.running === p) this.running = null;
    });
    this.running = p;
    return p;
  }
}

/**
 * fsync of the database's WAL file (where a WAL-mode commit lands), or of the database file itself
 * when there is no WAL. Opened per fsync: SQLite may truncate or recreate the WAL, and Linux fsyncs a
 * file's data whichever descriptor wrote it.
 */
export async function fsyncFile(dbFile: string): Promise<void> {
  for (const file of [`${dbFile}-wal`, dbFile]) {
    let fh;
    try {
      // The database's own files, named at run time: nothing for the bundler to trace.
      fh = await open(/* turbopackIgnore: true */ file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    try {
      // fdatasync, as SQLite itself syncs on Linux with synchronous=FULL: the data and the size, not the times.
      await fh.datasync();
    } finally {
      await fh.close();
    }
    return;
  }
}

/** Hooks of durableSqliteDialect. */
export interface DurableOptions {
  /** Replaces the fsync of the WAL (a test holds it to watch who waits). */
  fsync?: () => Promise<void>;
  /** Hears of each connection use that committed a write (the checkpointer, ./checkpointer.ts). */
  afterCommit?: () => void;
  /** Run once the connection is acquired, before it is used: a promise to wait for, or null (the checkpointer's settle). */
  beforeUse?: () => Promise<void> | null;
}

/**
 * A Kysely dialect over one better-sqlite3 connection with cached statements and durable commits (see
 * above). `file` is the database's path; the connection must already be in WAL mode with
 * synchronous=NORMAL.
 */
export function durableSqliteDialect(
  sqlite: BetterSqlite3.Database,
  file: string,
  opts: DurableOptions = {},
): { dialect: SqliteDialect; stats: () => DurabilityStats } {
  const { fsync = () => fsyncFile(file), afterCommit = () => {}, beforeUse = () => null } = opts;
  const sync = new GroupSync(fsync);
  const cache = new Map<string, SqliteStatement>();
  let wrote = false;
  let dirty = false;
  let durableCommits = 0;

  // A write that is now outside any transaction is committed: the connection's user must wait for the disk.
  // BEGIN IMMEDIATE counts as a write for SQLite (it takes the write lock) but writes nothing; after a
  // ROLLBACK nothing of the transaction is left to sync.
  const noteWrite = (stmt: BetterSqlite3.Statement, control: 'begin' | 'rollback' | null) => {
    if (control === 'rollback') wrote = false;
    else if (!stmt.readonly && control !== 'begin') wrote = true;
    if (wrote && !sqlite.inTransaction) {
      wrote = false;
      dirty = true;
    }
  };

  const database: SqliteDatabase = {
    close: () => sqlite.close(),
    prepare(sql: string): SqliteStatement {
      const hit = cache.get(sql);
      if (hit) return hit;
      const stmt = sqlite.prepare(sql);
      const control = /^\s*begin\b/i.test(sql) ? 'begin' : /^\s*rollback\s*(;|$)/i.test(sql) ? 'rollback' : null;
      const wrapped: SqliteStatement = {
        reader: stmt.reader,
        all(parameters) {
          const rows = stmt.all(...(parameters as unknown[])) as unknown[];
          noteWrite(stmt, control);
          return rows;
        },
        run(parameters) {
          const r = stmt.run(...(parameters as unknown[]));
          noteWrite(stmt, control);
          return r;
        },
        iterate: (parameters) => stmt.iterate(...(parameters as unknown[])) as IterableIterator<unknown>,
      };
      if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      cache.set(sql, wrapped);
      return wrapped;
    },
  };

  class DurableDialect extends SqliteDialect {
    override createDriver(): Driver {
      const inner = super.createDriver();
      return {
        init: () => inner.init(),
        async acquireConnection() {
          const c = await inner.acquireConnection();
          const wait = beforeUse();
          if (wait) await wait;
          return c;
        },
        beginTransaction: (c, s) => inner.beginTransaction(c, s),
        commitTransaction: (c) => inner.commitTransaction(c),
        rollbackTransaction: (c) => inner.rollbackTransaction(c),
        savepoint: inner.savepoint?.bind(inner),
        rollbackToSavepoint: inner.rollbackToSavepoint?.bind(inner),
        releaseSavepoint: inner.releaseSavepoint?.bind(inner),
        destroy: () => inner.destroy(),
        // The connection goes back first, so others use it during the fsync; the caller waits for the disk.
        async releaseConnection(c: DatabaseConnection) {
          const mustSync = dirty;
          dirty = false;
          await inner.releaseConnection(c);
          if (mustSync) {
            durableCommits++;
            afterCommit();
            await sync.request();
          }
        },
      };
    }
  }

  return { dialect: new DurableDialect({ database }), stats: () => ({ durableCommits, fsyncs: sync.count }) };
}
