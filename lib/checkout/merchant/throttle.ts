import { type Kysely, sql } from 'kysely';
import { getDb, nowIso } from '../../db';
import type { Database } from '../../db/schema';
import { writeTransaction } from '../kernel';

/*
 * The login throttle, in the database so every instance shares it. An attempt is counted BEFORE the
 * password is compared: reserveAttempt adds one to the client's counter (and to the all-clients
 * counter) in one transaction, with a conditional upsert that refuses when the counter is at its
 * limit. However many requests race, on however many instances, at most the limit get a reservation,
 * so at most the limit of passwords are compared. A correct password hands its reservation back
 * (releaseAttempt): the counters count wrong passwords that were compared, nothing else.
 *
 * Windows are fixed and start at a key's first failure: after WINDOW_MS the row counts as empty (the
 * upsert restarts it) and sweepStale deletes it, so the table holds only the current window's keys.
 */

/** How long failures are remembered, from a key's first failure in the window. */
export const WINDOW_MS = 15 * 60 * 1000;
/** Wrong passwords one client key may send per window; the next attempt is refused before any compare. */
export const MAX_FAILURES = 5;
/**
 * Wrong passwords from all untrusted clients together per window (browsers the merchant logged in
 * from are outside it). Client keys can be many (a botnet, an IPv6 /48), so this is what bounds guessing.
 */
export const GLOBAL_MAX_FAILURES = 30;
/** The counter key of the all-clients cap. Client keys are prefixed (`ip:`, `dev:`), so none equals it. */
export const ALL_CLIENTS = '*';

/** Which limit refused an attempt: the client's own, or the all-clients cap. */
export type ThrottleScope = 'client' | 'all';

/** A reservation to compare one password, or the refusal with when to come back. */
export type Reservation =
  | { ok: true; key: string; windowStart: string; failures: number; allWindowStart?: string }
  | { ok: false; scope: ThrottleScope; retryAfterSec: number };

class Refused extends Error {
  constructor(readonly scope: ThrottleScope, readonly retryAfterSec: number) {
    super(`login throttled (${scope})`);
  }
}

const T = 'merchant_login_throttle';

/**
 * One atomic count: inserts the key at 1, restarts an expired window at 1, or adds 1 while under
 * `limit`. The WHERE makes PostgreSQL and SQLite refuse the update (no row returned) at the limit;
 * PostgreSQL evaluates it on the row version it locked, so racing transactions queue and re-check.
 */
async function countOne(trx: Kysely<Database>, key: string, limit: number, now: number) {
  const at = nowIso(now);
  const cutoff = nowIso(now - WINDOW_MS);
  return trx
    .insertInto(T)
    .values({ key, window_start: at, failures: 1 })
    .onConflict((oc) =>
      oc.column('key')
        .doUpdateSet({
          window_start: sql<string>`case when ${sql.ref(`${T}.window_start`)} <= ${cutoff} then ${at} else ${sql.ref(`${T}.window_start`)} end`,
          failures: sql<number>`case when ${sql.ref(`${T}.window_start`)} <= ${cutoff} then 1 else ${sql.ref(`${T}.failures`)} + 1 end`,
        })
        .where((eb) => eb.or([eb('merchant_login_throttle.window_start', '<=', cutoff), eb('merchant_login_throttle.failures', '<', limit)])),
    )
    .returning(['window_start', 'failures'])
    .executeTakeFirst();
}

async function retryAfterSec(trx: Kysely<Database>, key: string, now: number): Promise<number> {
  const row = await trx.selectFrom(T).select('window_start').where('key', '=', key).executeTakeFirst();
  const ends = row ? Date.parse(row.window_start) + WINDOW_MS : now + WINDOW_MS;
  // `now` was read before this transaction queued on the row lock: another instance may have started
  // the window a few ms after it. Never ask for more than one window.
  return Math.min(WINDOW_MS / 1000, Math.max(1, Math.ceil((ends - now) / 1000)));
}

/**
 * Reserves the right to compare one password for `key`: counts it against the key's limit and, for an
 * untrusted client (`countsForAll`), against the all-clients cap, both or neither. Refuses with the
 * seconds until the limiting window ends.
 */
export async function reserveAttempt(key: string, countsForAll: boolean, now = Date.now()): Promise<Reservation> {
  try {
    return await writeTransaction(async (trx) => {
      // Always the client's row first, then the shared one: one lock order, so no deadlocks between instances.
      const mine = await countOne(trx, key, MAX_FAILURES, now);
      if (!mine) throw new Refused('client', await retryAfterSec(trx, key, now));
      let allWindowStart: string | undefined;
      if (countsForAll) {
        const all = await countOne(trx, ALL_CLIENTS, GLOBAL_MAX_FAILURES, now);
        // Throwing rolls back the client's count too: a refused attempt is not a failure.
        if (!all) throw new Refused('all', await retryAfterSec(trx, ALL_CLIENTS, now));
        allWindowStart = all.window_start;
      }
      return { ok: true as const, key, windowStart: mine.window_start, failures: Number(mine.failures), allWindowStart };
    });
  } catch (e) {
    if (e instanceof Refused) return { ok: false, scope: e.scope, retryAfterSec: e.retryAfterSec };
    throw e;
  }
}

/**
 * Gives back a reservation whose password was right. Only within the window it was counted in: once
 * that window was restarted, the count it added is gone already.
 */
export async function releaseAttempt(r: { key: string; windowStart: string; allWindowStart?: string }): Promise<void> {
  const db = await getDb();
  const undo = (key: string, windowStart: string) =>
    db.updateTable(T)
      .set({ failures: sql<number>`failures - 1` })
      .where('key', '=', key).where('window_start', '=', windowStart).where('failures', '>', 0)
      .execute();
  await undo(r.key, r.windowStart);
  if (r.allWindowStart) await undo(ALL_CLIENTS, r.allWindowStart);
}

/**
 * Deletes client rows whose window is over, so keys that stop coming (rotated addresses) do not pile
 * up. The all-clients row is left alone: it is one row, restarted in place, and a delete of it could
 * deadlock with a reservation holding a client row and waiting for it. A failed sweep (two sweeps
 * deadlocking on PostgreSQL) changes nothing the counting relies on; the next attempt sweeps again.
 */
export async function sweepStale(now = Date.now()): Promise<void> {
  const db = await getDb();
  await db.deleteFrom(T)
    .where('window_start', '<=', nowIso(now - WINDOW_MS))
    .where('key', '<>', ALL_CLIENTS)
    .execute()
    .catch(() => undefined);
}
