import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { type AppConfig, getConfig } from '../config';
import type { Database } from './schema';
import { migrate } from './migrations';
import { seedCatalog } from './seed';
import { type CheckpointStats, startCheckpointer } from './checkpointer';
import { namedStatementPool } from './pg-named';
import { durableSqliteDialect, type DurabilityStats } from './sqlite-durable';

export type DbKind = 'sqlite' | 'postgres';

/** SQLite's own default: the WAL pages after which a commit checkpoints, when no worker does it. */
const SQLITE_AUTOCHECKPOINT = 1000;

export interface DbHandle {
  db: Kysely<Database>;
  kind: DbKind;
  close(): Promise<void>;
  /** SQLite only: commits that waited for the disk and the fsyncs that covered them (./sqlite-durable.ts). */
  durability?: () => DurabilityStats;
  /** SQLite only: the checkpoint worker's state and work (./checkpointer.ts). */
  checkpoints?: () => CheckpointStats;
}

/** How openDb opens PostgreSQL (SQLite has one connection and no named statements). */
export interface OpenOptions {
  /** Connections of the pool at most (default 10, pg's). */
  poolMax?: number;
  /** Send the prepared hot statements as named statements (./pg-named.ts); default false here (the app passes DATABASE_NAMED_STATEMENTS, on by default). */
  namedStatements?: boolean;
}

/**
 * Opens the database named by a `file:PATH` (better-sqlite3) or `postgres://` (pg) URL; PostgreSQL with
 * a pool of at most `poolMax` connections (default 10), the hot statements named when asked.
 * SQLite: the directory is created, WAL journal, foreign keys on, and a busy timeout so concurrent
 * writers wait instead of failing. A commit that answered is on disk (a paid order must not vanish
 * with a power cut), as synchronous=FULL would make it, but the fsync runs off the event loop and is
 * shared by the commits around it (./sqlite-durable.ts); statements are prepared once.
 */
export function openDb(url: string, opts: OpenOptions = {}): DbHandle {
  if (url.startsWith('file:')) {
    // Loaded lazily so a PostgreSQL deployment never needs the native SQLite module.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const BetterSqlite3 = require('better-sqlite3') as typeof import('better-sqlite3');
    const file = path.resolve(url.slice('file:'.length));
    mkdirSync(path.dirname(file), { recursive: true });
    const sqlite = new BetterSqlite3(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    // NORMAL: SQLite itself fsyncs only at checkpoints; every commit's fsync is done by the dialect.
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    // Statement journals of the group commit's savepoints (and RETURNING's rows) in memory, not temp
    // files: they only ever hold the pages of one batch.
    sqlite.pragma('temp_store = MEMORY');
    // Checkpoints in a worker thread once it is up; until then, and if it fails, SQLite's own (./checkpointer.ts).
    const checkpointer = startCheckpointer(file, {
      // Best effort, in an event listener: a pragma that throws here must not take the process down.
      onActive: () => {
        try {
          if (sqlite.open) sqlite.pragma('wal_autocheckpoint = 0');
        } catch { /* SQLite keeps checkpointing itself */ }
      },
      onFallback: (error) => {
        try {
          if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT}`);
        } catch { /* it is already SQLite's default unless onActive ran */ }
        // lib/db sits below the logger: Node's own warning channel (stderr) says it.
        process.emitWarning(`SQLite checkpoint worker unavailable (${error instanceof Error ? error.message : String(error)}): checkpointing on the app's connection instead`, { code: 'WX_SQLITE_CHECKPOINTER' });
      },
    });
    const { dialect, stats } = durableSqliteDialect(sqlite, file, { afterCommit: () => checkpointer.noteCommit(), beforeUse: () => checkpointer.settle() });
    const db = new Kysely<Database>({ dialect });
    return {
      db, kind: 'sqlite', durability: stats, checkpoints: () => checkpointer.stats(),
      close: async () => {
        // The worker's connection first: the last connection to close checkpoints the WAL and removes it.
        await checkpointer.close();
        await db.destroy();
      },
    };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Pool } = require('pg') as typeof import('pg');
    // The app passes DATABASE_POOL_MAX (lib/config); a test's or a tool's own handle keeps pg's 10.
    const pool = new Pool({ connectionString: url, max: opts.poolMax ?? 10, connectionTimeoutMillis: 5000 });
    // An idle client losing its connection (server restart) must not crash the process.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: opts.namedStatements ? namedStatementPool(pool) : pool }) });
    return { db, kind: 'postgres', close: () => db.destroy() };
  }
  throw new Error(`DATABASE_URL must be file:PATH or postgres://..., got "${url}"`);
}

/** The options DATABASE_POOL_MAX and DATABASE_NAMED_STATEMENTS give, for every handle the app itself opens. */
export function configuredOpenOptions(config: AppConfig = getConfig()): OpenOptions {
  return { poolMax: config.dbPoolMax, namedStatements: config.dbNamedStatements };
}

/** Opens, migrates and (first start only) seeds. Used by the app and by the database test suites. */
export async function initDb(url: string, opts: OpenOptions = {}): Promise<DbHandle> {
  const handle = openDb(url, opts);
  try {
    await migrate(handle.db);
    await seedCatalog(handle.db);
  } catch (e) {
    await handle.close();
    throw e;
  }
  return handle;
}

const globalKey = Symbol.for('wechat-checkout.db');
type Holder = { [globalKey]?: Promise<DbHandle> };

/**
 * The process-wide database, opened and migrated once. Kept on globalThis because Next bundles route
 * handlers separately: a module-level variable would open one pool per bundle.
 */
export function getDbHandle(): Promise<DbHandle> {
  const g = globalThis as Holder;
  if (!g[globalKey]) {
    const config = getConfig();
    g[globalKey] = initDb(config.databaseUrl, configuredOpenOptions(config)).catch((e) => {
      delete g[globalKey];
      throw e;
    });
  }
  return g[globalKey]!;
}

export async function getDb(): Promise<Kysely<Database>> {
  return (await getDbHandle()).db;
}

/** Now as the ISO-8601 UTC text every timestamp column holds. */
export function nowIso(ms: number = Date.now()): string {
  return new Date(ms).toISOString();
}

export type { Database } from './schema';
export { migrate, migrationStatus, type MigrationStatus } from './migrations';
export { prepareQuery, type PreparedQuery } from './prepared';

/**
 * Closes the process-wide database (graceful shutdown, after the last request): the pg pool ends its
 * sessions cleanly, SQLite checkpoints and closes the file. A later getDbHandle() would open it again.
 */
export async function closeDbHandle(): Promise<void> {
  const g = globalThis as Holder;
  const opening = g[globalKey];
  if (!opening) return;
  delete g[globalKey];
  const handle = await opening.catch(() => undefined);
  await handle?.close();
}

/** Cheap liveness probe for /api/health: one `select 1` on the process's database. */
export async function pingDb(): Promise<DbKind> {
  const { db, kind } = await getDbHandle();
  await sql`select 1`.execute(db);
  return kind;
}
