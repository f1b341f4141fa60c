import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { getConfig } from '../../config';
import { getDb, nowIso } from '../../db';
import { newId } from '../kernel';
import type { ApiError } from './replies';

/*
 * Secret API keys of the sessions API. A key is `sk_test_` (sandbox) or `sk_live_` (live) + 32 random
 * base64url characters (192 bits), shown once when made; only its sha256 is stored, so a database
 * leak does not leak usable keys (a 192-bit random secret needs no slow hash). Every call looks the key
 * up in the database, so a revoked key stops working at once on every instance.
 */

/** The answer to POST /api/merchant/api-keys: the only time the key itself is shown. */
export interface NewApiKey {
  id: string;
  name: string;
  key: string;
  created_at: string;
}

/** A key as GET /api/merchant/api-keys lists it: never the key, only its first characters. */
export interface ApiKeySummary {
  id: string;
  name: string;
  prefix: string;
  livemode: boolean;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** The caller an API key proved to be. */
export interface ApiCaller {
  keyId: string;
  livemode: boolean;
}

/** Longest key name the merchant may type. */
export const API_KEY_NAME_MAX = 100;
/** last_used_at is written at most this often per key, so busy keys cost no write per call. */
const LAST_USED_GAP_MS = 60_000;
const KEY_RE = /^sk_(test|live)_[A-Za-z0-9_-]{32,}$/;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** Makes a key for this mode (sk_test_ in sandbox, sk_live_ in live). Refuses an empty or overlong name. */
export async function createApiKey(rawName: unknown): Promise<{ ok: true; key: NewApiKey } | { ok: false; error: ApiError }> {
  const name = typeof rawName === 'string' ? rawName.trim() : '';
  if (!name || name.length > API_KEY_NAME_MAX) {
    return { ok: false, error: { status: 400, code: 'parameter_invalid', message: `name must be 1 to ${API_KEY_NAME_MAX} characters`, param: 'name' } };
  }
  const live = getConfig().mode === 'live';
  const key = `sk_${live ? 'live' : 'test'}_${randomBytes(24).toString('base64url')}`;
  const row = { id: newId('key'), name, key_hash: sha256(key), prefix: key.slice(0, 12), livemode: live ? 1 : 0, created_at: nowIso(), last_used_at: null, revoked_at: null };
  await (await getDb()).insertInto('api_keys').values(row).execute();
  return { ok: true, key: { id: row.id, name, key, created_at: row.created_at } };
}

/** Every key, newest first, revoked ones included (with revoked_at). */
export async function listApiKeys(): Promise<ApiKeySummary[]> {
  const rows = await (await getDb()).selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
  return rows.map((r) => ({
    id: r.id, name: r.name, prefix: r.prefix, livemode: Number(r.livemode) === 1, created_at: r.created_at, last_used_at: r.last_used_at, revoked_at: r.revoked_at,
  }));
}

/** Revokes a key (once; revoking again changes nothing). False when there is no such key. */
export async function revokeApiKey(id: string): Promise<boolean> {
  const db = await getDb();
  const row = await db.selectFrom('api_keys').select('id').where('id', '=', id).executeTakeFirst();
  if (!row) return false;
  await db.updateTable('api_keys').set({ revoked_at: nowIso() }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  return true;
}

const unauthorized = (message: string): { ok: false; error: ApiError } => ({ ok: false, error: { status: 401, code: 'invalid_api_key', message } });

/**
 * Checks an Authorization header (`Bearer sk_...`) against the database: a missing, malformed, unknown
 * or revoked key, or a key of the other mode, is 401. The lookup is by sha256 (an index), and the stored
 * hash is compared again in constant time, so no timing tells how much of a guessed key was right.
 */
export async function authenticateApiKey(authorization: string | null | undefined): Promise<{ ok: true; caller: ApiCaller } | { ok: false; error: ApiError }> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return unauthorized('send your secret key as "Authorization: Bearer sk_..." (keys are made on /merchant/developers)');
  const key = m[1];
  if (!KEY_RE.test(key)) return unauthorized('that is not a secret key of this checkout (sk_test_... or sk_live_...)');
  const hash = sha256(key);
  const db = await getDb();
  const row = await db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst();
  if (!row || !timingSafeEqual(Buffer.from(row.key_hash, 'hex'), Buffer.from(hash, 'hex'))) return unauthorized('unknown API key');
  if (row.revoked_at) return unauthorized('this API key was revoked');
  const live = getConfig().mode === 'live';
  if ((Number(row.livemode) === 1) !== live) return unauthorized(live ? 'a test key cannot be used in live mode' : 'a live key cannot be used in sandbox mode');
  const now = Date.now();
  if (!row.last_used_at || Date.parse(row.last_used_at) < now - LAST_USED_GAP_MS) {
    await db.updateTable('api_keys').set({ last_used_at: nowIso(now) }).where('id', '=', row.id).execute();
  }
  return { ok: true, caller: { keyId: row.id, livemode: live } };
}
