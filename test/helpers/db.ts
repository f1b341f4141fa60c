import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { inject } from 'vitest';

export type Engine = 'sqlite' | 'postgres';
/** Both engines: every database suite runs with `describe.each(ENGINES)`. */
export const ENGINES: Engine[] = ['sqlite', 'postgres'];

/** A brand-new empty database URL for one suite: a SQLite file in a temp dir, or a fresh PG database. */
export async function freshDatabaseUrl(engine: Engine): Promise<string> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wxdb-'));
    return `file:${path.join(dir, 'checkout.db')}`;
  }
  const admin = inject('pgUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}
