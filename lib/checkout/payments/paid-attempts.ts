import type { Kysely } from 'kysely';
import type { Database, PaymentAttempt } from '../../db/schema';

/*
 * Paid attempts this process has already read or paid, by out_trade_no, so that a repeat of a payment
 * (WeChat resends a notify until it reads SUCCESS, an orderquery after the notify) is settled without
 * reading the attempt again: on PostgreSQL that read is a round trip, half of a repeat's cost.
 *
 * Safe across instances and processes because only immutable facts are kept: `paid` is an attempt's
 * last state, nothing updates a paid row (every update of payment_attempts is conditional on another
 * status) and nothing deletes one. An attempt that is not paid is never remembered, so whether it is
 * paid now is always asked of the database. Kept per database handle (a test process may open several).
 */

/** Attempts kept per database: a bounded, least-recently-used memory (about 1 KB each). */
export const PAID_ATTEMPTS_KEPT = 10_000;

const kept = new WeakMap<Kysely<Database>, Map<string, PaymentAttempt>>();

/** The paid attempt `outTradeNo` if this process knows it, else undefined (ask the database). */
export function knownPaidAttempt(db: Kysely<Database>, outTradeNo: string): PaymentAttempt | undefined {
  const m = kept.get(db);
  const a = m?.get(outTradeNo);
  if (a && m) {
    // Most recently used last, so the oldest is the first key.
    m.delete(outTradeNo);
    m.set(outTradeNo, a);
  }
  return a;
}

/** Remembers `attempt` if it is paid (only a paid row is immutable); anything else is ignored. */
export function rememberPaidAttempt(db: Kysely<Database>, attempt: PaymentAttempt): void {
  if (attempt.status !== 'paid' || !attempt.transaction_id) return;
  let m = kept.get(db);
  if (!m) kept.set(db, (m = new Map()));
  m.delete(attempt.out_trade_no);
  m.set(attempt.out_trade_no, attempt);
  if (m.size > PAID_ATTEMPTS_KEPT) m.delete(m.keys().next().value!);
}
