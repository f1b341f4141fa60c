import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '@/lib/db/schema';
import { durableSqliteDialect, fsyncFile } from '@/lib/db/sqlite-durable';
import { batchedWrite, batchStats } from '@/lib/db/write-batch';

/**
 * Group commit of SQLite write transactions (lib/db/write-batch.ts) on a real SQLite file: transactions
 * that queue share one COMMIT, each keeps its own outcome, and none is told of success before the
 * batch is committed and fsynced.
 */
type T = { t: { id: number; v: string } };
const rowsOf = new WeakMap<object, () => string[]>();
const lockers = new WeakMap<object, () => BetterSqlite3.Database>();
/** The connection's busy timeout in these tests: how long BEGIN IMMEDIATE waits for a held lock. */
const BUSY_MS = 1000;
/** The rows another connection sees, in insertion order. */
const other = (db: object) => rowsOf.get(db)!();

describe('batched SQLite write transactions', () => {
  const toClose: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of toClose.splice(0).reverse()) await c();
  });

  function open(opts: { holdFsync?: boolean } = {}) {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'batch-')), 'b.db');
    const sqlite = new BetterSqlite3(file);
    sqlite.pragma(`busy_timeout = ${BUSY_MS}`);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.exec('create table t (id integer primary key, v text not null)');
    const gates: Array<() => void> = [];
    const fsync = opts.holdFsync ? async () => {
      await new Promise<void>((r) => gates.push(r));
      await fsyncFile(file);
    } : undefined;
    const { dialect } = durableSqliteDialect(sqlite, file, { fsync });
    // The batcher is typed for the app's schema; this table is the test's own.
    const db = new Kysely<T>({ dialect }) as unknown as Kysely<Database>;
    const reader = new BetterSqlite3(file, { readonly: true });
    const count = () => (reader.prepare('select count(*) as n from t').get() as { n: number }).n;
    lockers.set(db, () => {
      const l = new BetterSqlite3(file);
      toClose.push(() => l.close());
      return l;
    });
    rowsOf.set(db, () => (reader.prepare('select v from t order by id').all() as Array<{ v: string }>).map((r) => r.v));
    toClose.push(() => db.destroy(), () => reader.close(), () => gates.splice(0).forEach((g) => g()));
    return { db, count, gates };
  }

  const insert = (db: Kysely<Database>, v: string) => batchedWrite(db, async (c) => {
    await sql`insert into t (v) values (${v})`.execute(c);
    return v;
  });

  it('transactions queued together share a commit, and each gets its own result', async () => {
    const { db, count } = open();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => insert(db, `v${i}`)));
    expect(results).toEqual(Array.from({ length: 40 }, (_, i) => `v${i}`));
    expect(count()).toBe(40);
    const s = batchStats(db);
    expect(s.jobs).toBe(40);
    // 40 at once: the first batch takes one, the queue behind it goes in batches of at most 32.
    expect(s.batches).toBeLessThanOrEqual(3);
  });

  it('one that throws is undone alone; the others of its batch commit', async () => {
    const { db, count } = open();
    const failing = batchedWrite(db, async (c) => {
      await sql`insert into t (v) values ('undone')`.execute(c);
      throw new Error('refused by the domain');
    });
    const [a, f, b] = await Promise.allSettled([insert(db, 'a'), failing, insert(db, 'b')]);
    expect(a).toEqual({ status: 'fulfilled', value: 'a' });
    expect(f).toMatchObject({ status: 'rejected', reason: { message: 'refused by the domain' } });
    expect(b).toEqual({ status: 'fulfilled', value: 'b' });
    expect(count()).toBe(2);
  });

  it('nobody hears of success before the commit is fsynced', async () => {
    const { db, count, gates } = open({ holdFsync: true });
    let settled = 0;
    const all = Promise.all([insert(db, 'x'), insert(db, 'y'), insert(db, 'z')].map((p) => p.then(() => settled++)));
    const deadline = Date.now() + 5000;
    // The first batch (one job) waits on its fsync; release fsyncs one at a time as they come.
    while (settled < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      if (gates.length > 0) {
        // Committed before the fsync is released, and not yet acknowledged.
        expect(count()).toBeGreaterThan(settled);
        gates.shift()!();
      }
    }
    await all;
    expect(settled).toBe(3);
    expect(count()).toBe(3);
  });

  it('when the write lock cannot be had (another process holds it past the busy timeout), every waiting job fails, once', async () => {
    const { db, count } = open();
    // Another connection on the same file takes the write lock and keeps it.
    const locker = lockers.get(db)!();
    locker.exec('begin exclusive');
    try {
      const started = Date.now();
      const results = await Promise.allSettled([insert(db, 'a'), insert(db, 'b'), insert(db, 'c')]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/locked|busy/i);
      // One busy timeout for all of them, not one each.
      expect(Date.now() - started).toBeLessThan(2 * BUSY_MS);
    } finally {
      locker.exec('rollback');
    }
    // The lock is back: writes go through again.
    expect(await insert(db, 'd')).toBe('d');
    expect(count()).toBe(1);
  });

  it('when the whole transaction is lost under a job, every job of the batch fails and nothing remains', async () => {
    const { db, count } = open();
    const results = await Promise.allSettled([
      insert(db, 'first'),
      insert(db, 'second'),
      batchedWrite(db, async (c) => {
        // What SQLite does on SQLITE_FULL or an I/O error: the transaction is rolled back under us.
        await sql`rollback`.execute(c);
        throw new Error('disk full');
      }),
      insert(db, 'fourth'),
    ]);
    // The two that ran before the loss must not be reported as stored; the one after it had not run
    // yet, so it goes into the next batch and commits there.
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'fulfilled']);
    expect(other(db)).toEqual(['fourth']);
    expect(batchStats(db)).toEqual({ batches: 1, jobs: 1 });
  });

  it('when no connection can be had (the database was closed), every waiting job fails at once, and no batch is tried again', async () => {
    // A database whose first connection fails; a second try (the bug this pins: the drain loop asked
    // again and again, never turning the event loop) would get one and run the jobs.
    let tries = 0;
    const conn = { executeQuery: async () => ({ rows: [] }) };
    const closed = {
      connection: () => ({
        execute: async (cb: (c: typeof conn) => Promise<unknown>) => {
          tries++;
          if (tries === 1) throw new Error('driver has already been destroyed');
          return cb(conn);
        },
      }),
    } as unknown as Kysely<T>;
    const results = await Promise.allSettled([1, 2, 3].map((i) => batchedWrite(closed as never, async () => i)));
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'fulfilled'))).toEqual(Array(3).fill('driver has already been destroyed'));
    expect(tries).toBe(1);
  });
});
