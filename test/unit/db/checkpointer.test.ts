import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type DbHandle, initDb } from '@/lib/db';
import { MIN_INTERVAL_MS, startCheckpointer } from '@/lib/db/checkpointer';

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
      const s = h.checkpoints!();
      return s.checkpoints > 0 && !s.owed && s.last !== null && s.last.log > 0 && s.last.log === s.last.checkpointed;
    }, 'a checkpoint of the whole WAL');
    // Not one per commit: at most one started per MIN_INTERVAL_MS (and the first at once).
    expect(h.checkpoints!().checkpoints).toBeLessThanOrEqual(Math.floor((Date.now() - started) / MIN_INTERVAL_MS) + 1);

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
    c.noteCommit();
    await until(() => calls.includes('fallback'), 'the worker to fail');
    await c.close();
    expect(calls).toEqual(['active', 'fallback']);
    expect(String(errors[0])).toContain('disk I/O error (test)');
    expect(c.stats().active).toBe(false);
  });
});
