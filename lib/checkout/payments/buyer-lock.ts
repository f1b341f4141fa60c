import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema';
import { writeTransaction } from '../kernel';

// On globalThis: Next bundles server actions and route handlers separately, and a lock per bundle
// would not serialize anything.
const holderKey = Symbol.for('wechat-checkout.buyer-locks');
const chains: Map<string, Promise<unknown>> = ((globalThis as Record<symbol, unknown>)[holderKey] ??= new Map()) as Map<string, Promise<unknown>>;

/** Runs `fn` after every earlier call with the same key in this process has settled. */
async function inProcess<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = chains.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  chains.set(key, tail);
  try {
    return await run;
  } finally {
    // Drop the entry once nobody queued behind us, so the map does not grow with every buyer.
    if (chains.get(key) === tail) chains.delete(key);
  }
}

/**
 * Serializes the short "decide and claim" step of a checkout for one key (buyer + sku): a double tap
 * must place one order and one unifiedorder. In-process callers queue on a promise chain; `fn` then
 * runs in a write transaction (kernel writeTransaction), which on PostgreSQL, where several instances
 * share the data, also holds `pg_advisory_xact_lock(key)` until commit. `fn` must not call WeChat and
 * must do all its database work through the `db` it is given: the claim it writes (./attempts.ts) is
 * what later callers wait on, so no connection is held while WeChat answers.
 */
export async function withBuyerLock<T>(key: string, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  return inProcess(key, () =>
    writeTransaction(async (trx, kind) => {
      if (kind === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${`checkout:${key}`}))`.execute(trx);
      return fn(trx);
    }),
  );
}
