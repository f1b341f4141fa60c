import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

/** What a finished backup wrote. */
export interface BackupResult {
  file: string;
  bytes: number;
  /** Rows in `orders` in the copy (a quick sanity figure for the operator). */
  orders: number;
}

/**
 * An online backup of the SQLite database at `databaseUrl` (`file:PATH`) into `dest`, with SQLite's
 * backup API through better-sqlite3 (`db.backup`): consistent while the app keeps writing, and it
 * includes what still sits in the WAL file, which a copy of the .db file alone would lose. Written to
 * `dest.partial` and renamed only once `PRAGMA integrity_check` on the copy says ok, so `dest` is
 * either a whole, checked backup or absent. Refuses a PostgreSQL URL (use pg_dump) and an existing
 * `dest` (never overwrites a backup).
 */
export async function backupSqlite(databaseUrl: string, dest: string): Promise<BackupResult> {
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) throw new Error('DATABASE_URL is PostgreSQL: back it up with pg_dump (see README, "Deploy")');
  if (!databaseUrl.startsWith('file:')) throw new Error(`DATABASE_URL must be file:PATH, got "${databaseUrl}"`);
  const source = path.resolve(databaseUrl.slice('file:'.length));
  if (!existsSync(source)) throw new Error(`no database at ${source}`);
  const target = path.resolve(dest);
  if (existsSync(target)) throw new Error(`${target} exists: choose a new file name (a backup is never overwritten)`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const BetterSqlite3 = require('better-sqlite3') as typeof import('better-sqlite3');
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const db = new BetterSqlite3(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    await db.backup(partial);
  } finally {
    db.close();
  }
  const copy = new BetterSqlite3(partial, { fileMustExist: true });
  let orders: number;
  try {
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`the copy failed integrity_check: ${String(check)}`);
    // A single file: the copy must not depend on a -wal beside it.
    copy.pragma('journal_mode = DELETE');
    orders = (copy.prepare('select count(*) as n from orders').get() as { n: number }).n;
  } catch (e) {
    copy.close();
    rmSync(partial, { force: true });
    throw e;
  }
  copy.close();
  renameSync(partial, target);
  return { file: target, bytes: statSync(target).size, orders };
}
