import { type Kysely, sql } from 'kysely';
import type { Database } from '@/lib/db';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckoutUnderTest, checkoutAgainst } from '../helpers/checkout-unit';
import { freshDatabaseUrl } from '../helpers/db';

/**
 * DATABASE_POOL_MAX reaches the app's PostgreSQL pool (lib/db, through lib/config): with 2, five
 * statements at once never hold more than 2 connections, and the rest wait their turn. Its own file:
 * lib/config is read once per process.
 */
describe('the app database pool on PostgreSQL', () => {
  let app: CheckoutUnderTest;
  let watcher: pg.Client;
  beforeAll(async () => {
    app = await checkoutAgainst(null, { DATABASE_URL: await freshDatabaseUrl('postgres'), DATABASE_POOL_MAX: '2' });
    watcher = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await watcher.connect();
  });
  afterAll(async () => {
    delete process.env.DATABASE_POOL_MAX;
    await watcher?.end();
    await app?.close();
  });

  /** The most of five 0.2 s sleeps on `db` that the watcher ever saw running at once. */
  async function mostAtOnce(db: Kysely<Database>): Promise<number> {
    // Sessions running one of the sleeps (not every session of the database: a connection of the
    // start-up's own, still closing, would count there).
    const running = async () => (await watcher.query(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state = 'active' and query like 'select pg_sleep%'`,
    )).rows[0].n as number;
    let finished = false;
    const sleeps = Promise.all(Array.from({ length: 5 }, () => sql`select pg_sleep(0.2)`.execute(db))).then(() => (finished = true));
    const seen: number[] = [];
    while (!finished) seen.push(await running());
    await sleeps;
    return Math.max(...seen);
  }

  it('opens at most DATABASE_POOL_MAX connections', async () => {
    // Two at a time: the watcher sees the pool full, never over.
    expect(await mostAtOnce(app.db)).toBe(2);
  });

  it('the sandbox on its own (SANDBOX_ONLY=1) opens its pool with DATABASE_POOL_MAX too', async () => {
    const g = globalThis as Record<symbol, unknown>;
    delete g[Symbol.for('wechat-checkout.sandbox-db')];
    process.env.SANDBOX_ONLY = '1';
    try {
      const { sandboxDb } = await import('@/lib/sandbox/db');
      // The sandbox's handle is the same Kysely, typed for its own tables.
      const own = (await sandboxDb()) as unknown as Kysely<Database>;
      try {
        expect(await mostAtOnce(own)).toBe(2);
      } finally {
        await own.destroy();
      }
    } finally {
      delete process.env.SANDBOX_ONLY;
      delete g[Symbol.for('wechat-checkout.sandbox-db')];
    }
  });
});
