import type { Kysely } from 'kysely';
import { getDb } from '../db';
import { ensureSandboxSchema, type SandboxTables } from './schema';

export type SandboxDb = Kysely<SandboxTables>;

const key = Symbol.for('wechat-checkout.sandbox-db');
type Holder = { [key]?: Promise<SandboxDb> };

/**
 * The app's database seen through the sandbox's tables, schema ensured once per process. Kept on
 * globalThis: Next bundles each route handler separately, and the notifier lives in yet another bundle.
 */
export function sandboxDb(): Promise<SandboxDb> {
  const g = globalThis as Holder;
  if (!g[key]) {
    g[key] = (async () => {
      const db = (await getDb()).withTables<SandboxTables>() as unknown as SandboxDb;
      await ensureSandboxSchema(db);
      return db;
    })().catch((e) => {
      delete g[key];
      throw e;
    });
  }
  return g[key]!;
}
