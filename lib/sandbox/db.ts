import type { Kysely } from 'kysely';
import { getConfig } from '../config';
import { configuredOpenOptions, getDb, openDb } from '../db';
import { ensureSandboxSchema, type SandboxTables } from './schema';

export type SandboxDb = Kysely<SandboxTables>;

const key = Symbol.for('wechat-checkout.sandbox-db');
type Holder = { [key]?: Promise<SandboxDb> };

/** True when this process is the sandbox on its own (`npm run sandbox`, SANDBOX_ONLY=1): no checkout, no app tables. */
export function sandboxOnly(env: Record<string, string | undefined> = process.env): boolean {
  return env.SANDBOX_ONLY === '1';
}

/**
 * The database seen through the sandbox's tables, schema ensured once per process. Embedded, that is
 * the app's database; on its own (SANDBOX_ONLY=1) the sandbox opens DATABASE_URL itself and creates
 * only its sandbox_* tables, never the checkout's. Kept on globalThis: Next bundles each route handler
 * separately, and the notifier lives in yet another bundle.
 */
export function sandboxDb(): Promise<SandboxDb> {
  const g = globalThis as Holder;
  if (!g[key]) {
    g[key] = (async () => {
      const config = getConfig();
      const base = sandboxOnly() ? openDb(config.databaseUrl, configuredOpenOptions(config)).db : await getDb();
      const db = base.withTables<SandboxTables>() as unknown as SandboxDb;
      await ensureSandboxSchema(db);
      return db;
    })().catch((e) => {
      delete g[key];
      throw e;
    });
  }
  return g[key]!;
}
