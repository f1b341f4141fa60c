import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDb } from '@/lib/db';

/**
 * `npm run backup` against a SQLite database another connection keeps writing to, as the running app
 * would: the copy is whole (integrity_check ok), holds every order committed before it started, including
 * the ones still only in the WAL file (which a copy of the .db file misses), and stands alone.
 */
const ROOT = path.resolve(__dirname, '../../..');

function runBackup(env: Record<string, string>, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, 'scripts/backup.ts'), ...args], {
      cwd: os.tmpdir(), env: { ...process.env, ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('npm run backup (SQLite online backup)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxcheckout-backup-'));
  const file = path.join(dir, 'checkout.db');
  let writer: Database.Database;
  beforeAll(async () => {
    const h = await initDb(`file:${file}`);
    await h.close();
    writer = new Database(file);
    writer.pragma('journal_mode = WAL');
    // Keep every commit in the -wal file: a copy of checkout.db alone would not see them.
    writer.pragma('wal_autocheckpoint = 0');
  });
  afterAll(() => writer?.close());

  let n = 0;
  /** One committed order from the writer connection; returns its id. */
  const insert = () => {
    n += 1;
    const at = new Date().toISOString();
    writer.prepare(`insert into orders (id, sku, name, quantity, amount_fen, status, buyer_id, refunded_fen, duplicate_paid, created_at, updated_at)
      values (?, 'test-1fen', 'backup test', 1, 1, 'pending', 'b', 0, 0, ?, ?)`).run(`o_backup_${n}`, at, at);
    return `o_backup_${n}`;
  };

  it('copies a database that is being written to, WAL included, checked and standalone', async () => {
    const before = Array.from({ length: 50 }, () => insert());
    const fileCopy = path.join(dir, 'file-copy.db');
    copyFileSync(file, fileCopy);
    const naive = new Database(fileCopy, { readonly: true });
    expect((naive.prepare(`select count(*) as n from orders where id like 'o_backup_%'`).get() as { n: number }).n).toBe(0);
    naive.close();

    // Writes keep coming while the backup runs.
    let writing = true;
    const during = (async () => {
      while (writing) {
        insert();
        await new Promise((r) => setImmediate(r));
      }
    })();
    const dest = path.join(dir, 'out', 'backup.db');
    const r = await runBackup({ DATABASE_URL: `file:${file}` }, [dest]);
    writing = false;
    await during;
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^backup written: .*backup\.db \(\d+ bytes, \d+ orders, integrity ok\)/);
    expect(existsSync(`${dest}-wal`)).toBe(false);

    const copy = new Database(dest, { readonly: true, fileMustExist: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    const ids = new Set((copy.prepare(`select id from orders where id like 'o_backup_%'`).all() as Array<{ id: string }>).map((x) => x.id));
    for (const id of before) expect(ids.has(id), id).toBe(true);
    copy.close();
  });

  it('refuses to overwrite a backup, a missing database and PostgreSQL, with the reason and exit 1', async () => {
    const dest = path.join(dir, 'once.db');
    expect((await runBackup({ DATABASE_URL: `file:${file}` }, [dest])).code).toBe(0);
    const again = await runBackup({ DATABASE_URL: `file:${file}` }, [dest]);
    expect(again).toMatchObject({ code: 1, out: expect.stringContaining('exists: choose a new file name') });
    const missing = await runBackup({ DATABASE_URL: `file:${path.join(dir, 'nope.db')}` }, [path.join(dir, 'x.db')]);
    expect(missing).toMatchObject({ code: 1, out: expect.stringContaining('no database at') });
    const pg = await runBackup({ DATABASE_URL: 'postgres://u@localhost/db' }, [path.join(dir, 'y.db')]);
    expect(pg).toMatchObject({ code: 1, out: expect.stringContaining('pg_dump') });
    expect(existsSync(path.join(dir, 'x.db')) || existsSync(path.join(dir, 'y.db'))).toBe(false);
  });
});
