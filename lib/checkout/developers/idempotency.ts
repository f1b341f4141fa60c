import { createHash } from 'node:crypto';
import { getDb, nowIso } from '../../db';
import { writeTransaction } from '../kernel';
import { type ApiError, type ApiReply, errorReply } from './replies';

/*
 * Idempotency-Key, as Stripe's API has it: the first request with a key runs and its answer is stored
 * for 24 hours; a retry with the same key and the same body gets that answer again (header
 * Idempotent-Replayed: true) without running anything; the same key with another operation or body is
 * refused (422 idempotency_key_mismatch), and a retry while the first is still running is 409
 * idempotency_key_in_use. Answers of 5xx and thrown errors are not kept, so the retry runs again.
 * Keys are per merchant (this checkout has one), not per API key.
 */

/** How long a key's answer is kept and replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;
/** A `processing` record older than this belongs to a request that died: the key may be used again. */
const STALE_PROCESSING_MS = 60_000;
/** Longest Idempotency-Key accepted (Stripe's limit). */
export const IDEMPOTENCY_KEY_MAX = 255;

// On globalThis: one sweep schedule per process, not one per Next bundle.
const pruneKey = Symbol.for('wechat-checkout.idempotency-prune');
const pruned = ((globalThis as Record<symbol, unknown>)[pruneKey] ??= { at: 0 }) as { at: number };

/** JSON with object keys sorted, so the same body written in another key order has the same hash. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Checks an Idempotency-Key header value: printable ASCII, 1 to 255 characters. */
export function checkIdempotencyKey(key: string): ApiError | null {
  if (key.length === 0 || key.length > IDEMPOTENCY_KEY_MAX || !/^[\x21-\x7e]+$/.test(key)) {
    return { status: 400, code: 'idempotency_key_invalid', message: `Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_MAX} printable ASCII characters without spaces`, param: 'Idempotency-Key' };
  }
  return null;
}

type Claim = { kind: 'claimed' } | { kind: 'replay'; reply: ApiReply } | { kind: 'refused'; reply: ApiReply };

async function claim(key: string, operation: string, bodyHash: string, now: number): Promise<Claim> {
  return writeTransaction(async (trx) => {
    // Expired records are forgotten (the key is free again), and now and then swept.
    await trx.deleteFrom('api_idempotency').where('idem_key', '=', key).where('created_at', '<', nowIso(now - IDEMPOTENCY_TTL_MS)).execute();
    const row = await trx.selectFrom('api_idempotency').selectAll().where('idem_key', '=', key).executeTakeFirst();
    if (row) {
      if (row.operation !== operation || row.body_hash !== bodyHash) {
        return { kind: 'refused', reply: errorReply({ status: 422, code: 'idempotency_key_mismatch', message: `this Idempotency-Key was already used with ${row.operation === operation ? 'other parameters' : `another request (${row.operation})`} in the last 24 hours; use a new key for a new request`, param: 'Idempotency-Key' }) };
      }
      if (row.state === 'done') {
        return { kind: 'replay', reply: { status: Number(row.response_status), body: JSON.parse(row.response_body ?? 'null') as unknown, headers: { 'Idempotent-Replayed': 'true' } } };
      }
      if (Date.parse(row.created_at) > now - STALE_PROCESSING_MS) {
        return { kind: 'refused', reply: errorReply({ status: 409, code: 'idempotency_key_in_use', message: 'a request with this Idempotency-Key is still being processed; retry in a moment', param: 'Idempotency-Key' }) };
      }
      await trx.deleteFrom('api_idempotency').where('idem_key', '=', key).execute();
    }
    await trx.insertInto('api_idempotency').values({
      idem_key: key, operation, body_hash: bodyHash, state: 'processing', response_status: null, response_body: null, created_at: nowIso(now),
    }).execute();
    return { kind: 'claimed' };
  });
}

/**
 * Runs `fn` under an Idempotency-Key (when one was sent): the stored answer for a retry, a refusal for a
 * reuse with another body, else `fn`'s answer, kept for 24 hours unless it is a 5xx or `fn` throws.
 */
export async function withIdempotency(key: string | null | undefined, operation: string, body: unknown, fn: () => Promise<ApiReply>): Promise<ApiReply> {
  if (key === null || key === undefined) return fn();
  const bad = checkIdempotencyKey(key);
  if (bad) return errorReply(bad);
  const now = Date.now();
  const bodyHash = createHash('sha256').update(canonical(body)).digest('hex');
  const c = await claim(key, operation, bodyHash, now);
  if (c.kind !== 'claimed') return c.reply;
  const db = await getDb();
  let reply: ApiReply;
  try {
    reply = await fn();
  } catch (e) {
    await db.deleteFrom('api_idempotency').where('idem_key', '=', key).where('state', '=', 'processing').execute();
    throw e;
  }
  if (reply.status >= 500) {
    await db.deleteFrom('api_idempotency').where('idem_key', '=', key).where('state', '=', 'processing').execute();
  } else {
    await db.updateTable('api_idempotency').set({ state: 'done', response_status: reply.status, response_body: JSON.stringify(reply.body) })
      .where('idem_key', '=', key).execute();
  }
  if (now - pruned.at > 60_000) {
    pruned.at = now;
    await db.deleteFrom('api_idempotency').where('created_at', '<', nowIso(now - IDEMPOTENCY_TTL_MS)).execute();
  }
  return reply;
}
