import { copyFileSync, existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type DbHandle, initDb } from '@/lib/db';
import { MAX_FAILURES, MIN_INTERVAL_MS, RESTART_FRAMES, startCheckpointer } from '@/lib/db/checkpointer';

/**
 * WAL checkpoints in a worker thread (lib/db/checkpointer.ts), on real SQLite files: the app's
 * connection never checkpoints itself while the worker runs, the worker copies every commit into the
 * database file, and if the worker cannot run the app's connection gets its automatic checkpoints back.
 */
const dir = () => mkdtempSync(path.join(os.tmpdir(), 'ckpt-'));

/** Waits for `cond` (no fixed sleeps): polls every 10 ms, fails after `ms`. */
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the SQLite checkpoint worker', () => {
  const handles: DbHandle[] = [];
  afterEach(async () => {
    for (const h of handles.splice(0)) await h.close();
  });

  it('checkpoints in its thread: the app connection does not, and every commit reaches the database file', async () => {
    const file = path.join(dir(), 'c.db');
    const h = await initDb(`file:${file}`);
    handles.push(h);
    await until(() => h.checkpoints!().active, 'the worker to be ready');
    const auto = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(h.db);
    expect(auto.rows[0].wal_autocheckpoint).toBe(0);

    // About 2,500 pages of WAL in 200 commits: past SQLite's own 1000-page line more than twice.
    const big = 'x'.repeat(4000);
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      await h.db.insertInto('payment_events').values(Array.from({ length: 10 }, (_, j) => ({
        id: `ev_ckpt_${i}_${j}`, order_id: null, out_trade_no: null, source: 'notify' as const, outcome: 'applied' as const, detail: 'ckpt', raw: big, at: new Date().toISOString(),
      }))).execute();
    }
    // Once none is owed, the last checkpoint started after the last commit: it copied the whole WAL.
    await until(() => {
      const c = h.checkpoints!();
      return c.checkpoints > 0 && !c.owed && c.last !== null && c.last.log > 0 && c.last.log === c.last.checkpointed;
    }, 'a checkpoint of the whole WAL');
    // Not one per commit: at most one started per MIN_INTERVAL_MS (and the first at once), besides
    // those a settle started at once (RESTART_FRAMES).
    const s = h.checkpoints!();
    expect(s.checkpoints).toBeLessThanOrEqual(Math.floor((Date.now() - started) / MIN_INTERVAL_MS) + 1 + s.settles);

    // The database file alone, without its WAL, holds every row: the worker copied them there.
    const copy = path.join(dir(), 'copy.db');
    copyFileSync(file, copy);
    const alone = new BetterSqlite3(copy, { readonly: true });
    try {
      expect(alone.prepare("select count(*) as n from payment_events where detail = 'ckpt'").get()).toEqual({ n: 2000 });
    } finally {
      alone.close();
    }
  });

  it('under a stream of commits with no pause the WAL is written from its start again, not grown without end', async () => {
    const file = path.join(dir(), 'c.db');
    const h = await initDb(`file:${file}`);
    handles.push(h);
    await until(() => h.checkpoints!().active, 'the worker to be ready');
    // 16 writers back to back, 6,400 commits of a 4 KB row (two pages each, so at least 12,800 WAL
    // frames in all), and never a moment without a commit queued.
    const big = 'y'.repeat(4000);
    let maxWal = 0;
    await Promise.all(Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; i < 400; i++) {
        await h.db.insertInto('payment_events').values({ id: `ev_s_${w}_${i}`, order_id: null, out_trade_no: null, source: 'notify', outcome: 'applied', detail: 's', raw: big, at: new Date().toISOString() }).execute();
        if (i % 20 === 0) maxWal = Math.max(maxWal, statSync(`${file}-wal`).size);
      }
    }));
    // A WAL never written from its start again holds every frame written: at least 12,800 (about
    // 40,000 measured, index pages included). Here it is RESTART_FRAMES plus what the commits add until
    // the next checkpoint (100 ms of them: 3,000 to 6,000 frames of this synthetic stream on the machine
    // it was written on; a payment writes about 11 pages, not 2).
    const frames = maxWal / (4096 + 24);
    expect(frames).toBeLessThan(12_800);
    expect(h.checkpoints!().settles).toBeGreaterThan(0);
    expect(await h.db.selectFrom('payment_events').select((eb) => eb.fn.countAll<number>().as('n')).where('detail', '=', 's').executeTakeFirstOrThrow()).toEqual({ n: 6400 });
  });

  it('when another connection keeps the WAL from starting over, the app waits again only after another RESTART_FRAMES', async () => {
    const file = path.join(dir(), 'c.db');
    const h = await initDb(`file:${file}`);
    handles.push(h);
    await until(() => h.checkpoints!().active, 'the worker to be ready');
    // A reader holding an old snapshot (a backup, Litestream, the sqlite3 shell): checkpoints cannot
    // copy past it and SQLite cannot write the WAL from its start again.
    const reader = new BetterSqlite3(file);
    reader.prepare('begin').run();
    reader.prepare('select count(*) from payment_events').get();
    try {
      // A trickle of writes: 40 rows (about 80 frames), then the checkpoint after them, 40 times over.
      const big = 'z'.repeat(4000);
      for (let round = 0; round < 40; round++) {
        for (let i = 0; i < 40; i++) {
          await h.db.insertInto('payment_events').values({ id: `ev_r_${round}_${i}`, order_id: null, out_trade_no: null, source: 'notify', outcome: 'applied', detail: 'r', raw: big, at: new Date().toISOString() }).execute();
        }
        // None owed: the last checkpoint started after the round's last commit (it may be done already).
        await until(() => !h.checkpoints!().owed, 'the checkpoint after the round');
      }
      const s = h.checkpoints!();
      const walFrames = statSync(`${file}-wal`).size / (4096 + 24);
      // Not a wait per checkpoint once the WAL is past the line (that would be about 25 here): one per
      // RESTART_FRAMES of growth at most.
      expect(s.settles).toBeLessThanOrEqual(Math.ceil(walFrames / RESTART_FRAMES) + 1);
      expect(s.checkpoints).toBeGreaterThanOrEqual(40);
    } finally {
      reader.prepare('rollback').run();
      reader.close();
    }
  });

  it('on close the worker goes first, and the app connection, closing last, removes the WAL', async () => {
    const file = path.join(dir(), 'c.db');
    const h = await initDb(`file:${file}`);
    await until(() => h.checkpoints!().active, 'the worker to be ready');
    await h.db.insertInto('payment_events').values({ id: 'ev_close', order_id: null, out_trade_no: null, source: 'notify', outcome: 'applied', detail: 'd', raw: null, at: new Date().toISOString() }).execute();
    expect(existsSync(`${file}-wal`)).toBe(true);
    await h.close();
    expect(h.checkpoints!().active).toBe(false);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('a process whose last work is the database\'s close waits for the worker: it does not end half-closed', async () => {
    // A script that writes, lets the worker go idle, closes and then prints: the close waits for the
    // worker thread to exit, so the worker must hold the process open meanwhile (an idle one does not).
    const d = dir();
    const script = path.join(d, 'close-last.ts');
    writeFileSync(script, `import { initDb } from ${JSON.stringify(path.resolve('lib/db'))};
void (async () => {
  const h = await initDb(${JSON.stringify(`file:${path.join(d, 'c.db')}`)});
  while (!h.checkpoints!().active) await new Promise((r) => setTimeout(r, 5));
  await h.db.insertInto('payment_events').values({ id: 'ev_last', order_id: null, out_trade_no: null, source: 'notify', outcome: 'applied', detail: 'd', raw: null, at: new Date().toISOString() }).execute();
  while (h.checkpoints!().owed) await new Promise((r) => setTimeout(r, 5));
  // Idle for a moment, as a tool's last step after its work: nothing but the close is left to run.
  await new Promise((r) => setTimeout(r, 300));
  await h.close();
  console.log('closed');
})();
`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout.trim().split('\n').pop(), r.stderr).toBe('closed');
    expect(r.status).toBe(0);
    expect(existsSync(path.join(d, 'c.db-wal'))).toBe(false);
  });

  it('a worker that cannot load better-sqlite3 hands checkpoints back, once, and is never active', async () => {
    const calls: string[] = [];
    const errors: unknown[] = [];
    const c = startCheckpointer(path.join(dir(), 'c.db'), {
      onActive: () => calls.push('active'),
      onFallback: (e) => {
        calls.push('fallback');
        errors.push(e);
      },
    }, ['/nonexistent/dir/x.js']);
    await until(() => calls.length > 0, 'the worker to give up');
    c.noteCommit();
    await c.close();
    expect(calls).toEqual(['fallback']);
    expect(String(errors[0])).toMatch(/better-sqlite3 not found from \/nonexistent\/dir\/x\.js/);
    expect(c.stats()).toMatchObject({ active: false, checkpoints: 0 });
  });

  it('a worker whose checkpoint fails after it was ready hands checkpoints back', async () => {
    // The worker finds a better-sqlite3 of this test's own whose checkpoint throws, as a disk error would.
    const root = dir();
    mkdirSync(path.join(root, 'node_modules/better-sqlite3'), { recursive: true });
    writeFileSync(path.join(root, 'node_modules/better-sqlite3/index.js'), `module.exports = class {
      pragma(p) { if (p.startsWith('wal_checkpoint')) throw new Error('disk I/O error (test)'); return []; }
      close() {}
    };`);
    const calls: string[] = [];
    const errors: unknown[] = [];
    const c = startCheckpointer(path.join(root, 'c.db'), {
      onActive: () => calls.push('active'),
      onFallback: (e) => {
        calls.push('fallback');
        errors.push(e);
      },
    }, [path.join(root, 'x.js')]);
    await until(() => c.stats().active, 'the worker to be ready');
    // One failure may pass (an I/O hiccup); MAX_FAILURES in a row hand checkpoints back.
    await until(() => {
      c.noteCommit();
      return calls.includes('fallback');
    }, 'the worker to fail');
    expect(c.stats().checkpoints).toBe(MAX_FAILURES);
    await c.close();
    expect(calls).toEqual(['active', 'fallback']);
    expect(String(errors[0])).toContain(`checkpoint failed ${MAX_FAILURES} times in a row: disk I/O error (test)`);
    expect(c.stats().active).toBe(false);
  });
});
