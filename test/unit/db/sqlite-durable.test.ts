import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { type Generated, Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '@/lib/db';
import { durableSqliteDialect, fsyncFile, GroupSync } from '@/lib/db/sqlite-durable';

/**
 * SQLite commits are durable before the caller hears of them, with the fsync off the event loop and
 * shared by the commits around it (lib/db/sqlite-durable.ts): a write's promise resolves only after an
 * fsync that started after its commit, while other queries keep running during that fsync.
 */

/** An fsync a test releases by hand, recording when each one started. */
function heldFsync(file: string) {
  const started: number[] = [];
  const gates: Array<() => void> = [];
  let n = 0;
  const fsync = async () => {
    started.push(++n);
    await new Promise<void>((r) => gates.push(r));
    await fsyncFile(file);
  };
  return { fsync, started, releaseAll: () => gates.splice(0).forEach((g) => g()), pending: () => gates.length };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

async function until(cond: () => boolean, what: string) {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

describe('durable SQLite commits', () => {
  const toClose: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of toClose.splice(0)) await c();
  });

  function open() {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'durable-')), 'd.db');
    const sqlite = new BetterSqlite3(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.exec('create table t (id integer primary key, v text)');
    const held = heldFsync(file);
    const { dialect, stats } = durableSqliteDialect(sqlite, file, { fsync: held.fsync });
    const db = new Kysely<{ t: { id: Generated<number>; v: string } }>({ dialect });
    const other = new BetterSqlite3(file, { readonly: true });
    toClose.push(() => {
      other.close();
    }, () => {
      held.releaseAll();
      return db.destroy();
    });
    return { db, held, stats, other };
  }

  it('a committed write resolves only after an fsync that started after it; reads go on meanwhile', async () => {
    const { db, held, stats, other } = open();
    let done = false;
    const write = db.insertInto('t').values({ v: 'paid' }).execute().then(() => (done = true));
    await until(() => held.pending() === 1, 'the fsync to start');
    // Committed (another connection sees it), but the writer has not been told: the disk comes first.
    expect(other.prepare('select count(*) as n from t').get()).toEqual({ n: 1 });
    expect(done).toBe(false);
    // The connection is free and the event loop runs: a read answers during the fsync.
    expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }]);
    expect(done).toBe(false);
    held.releaseAll();
    await write;
    expect(stats()).toMatchObject({ durableCommits: 1, fsyncs: 1 });
  });

  it('commits during a running fsync wait for the next one, and share it', async () => {
    const { db, held, stats } = open();
    const first = db.insertInto('t').values({ v: 'a' }).execute();
    await until(() => held.pending() === 1, 'the first fsync');
    let laterDone = 0;
    const later = Promise.all([1, 2, 3].map((i) =>
      db.connection().execute(async (c) => {
        await sql`begin immediate`.execute(c);
        await c.insertInto('t').values({ v: `b${i}` }).execute();
        await sql`commit`.execute(c);
      }).then(() => laterDone++)));
    await tick();
    // The first fsync may have started before these commits: releasing it must not release them.
    held.releaseAll();
    await first;
    await until(() => held.pending() === 1, 'the second fsync');
    expect(laterDone).toBe(0);
    held.releaseAll();
    await later;
    expect(laterDone).toBe(3);
    // Four commits, two fsyncs: the three that came during the first shared the second.
    expect(stats()).toEqual({ durableCommits: 4, fsyncs: 2 });
  });

  it('reads and a rolled-back transaction wait for no fsync', async () => {
    const { db, held, stats } = open();
    await db.selectFrom('t').selectAll().execute();
    await db.connection().execute(async (c) => {
      await sql`begin immediate`.execute(c);
      await sql`rollback`.execute(c);
    });
    expect(held.started).toEqual([]);
    expect(stats()).toEqual({ durableCommits: 0, fsyncs: 0 });
  });

  it('openDb uses it: a write through the app handle is counted and fsynced', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'durable-')), 'app.db');
    const h = openDb(`file:${file}`);
    toClose.push(() => h.close());
    await sql`create table x (id integer primary key)`.execute(h.db);
    await sql`insert into x default values`.execute(h.db);
    const s = h.durability!();
    expect(s.durableCommits).toBe(2);
    expect(s.fsyncs).toBeGreaterThanOrEqual(1);
  });
});

describe('GroupSync', () => {
  it('one fsync for a burst of requests, and a request during an fsync gets the next one', async () => {
    const gates: Array<() => void> = [];
    const g = new GroupSync(() => new Promise<void>((r) => gates.push(r)));
    const a = g.request();
    const b = [g.request(), g.request()];
    expect(g.count).toBe(1);
    expect(gates).toHaveLength(1);
    gates.shift()!();
    await a;
    await tick();
    // b was asked for while the first ran: it needs (and shares) a second one.
    expect(g.count).toBe(2);
    gates.shift()!();
    await Promise.all(b);
  });
});
