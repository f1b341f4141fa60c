/**
 * `npm run backup [-- DEST]`: an online backup of the SQLite database (DATABASE_URL, default
 * file:./data/checkout.db) while the app keeps running, into DEST (default
 * backups/checkout-<UTC time>.db). Exit 1 with the reason when it cannot (PostgreSQL: use pg_dump).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadEnvConfig } from '@next/env';
import { backupSqlite } from '../lib/db/backup';

// The same .env files `next start` reads, so the backup reads the database the server uses.
loadEnvConfig(process.cwd(), false, { info: () => {}, error: console.error });
const url = process.env.DATABASE_URL?.trim() || 'file:./data/checkout.db';
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const dest = process.argv[2] ?? path.join('backups', `checkout-${stamp}.db`);
mkdirSync(path.dirname(path.resolve(dest)), { recursive: true });
backupSqlite(url, dest).then(
  (r) => {
    console.log(`backup written: ${r.file} (${r.bytes} bytes, ${r.orders} orders, integrity ok)`);
  },
  (e: Error) => {
    console.error(`backup failed: ${e.message}`);
    process.exit(1);
  },
);
