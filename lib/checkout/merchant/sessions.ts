import { createHash, createHmac, randomBytes } from 'node:crypto';
import { getConfig } from '../../config';
import { getDb, nowIso } from '../../db';

/*
 * Merchant sessions live in the database; the cookie holds only a random id. So logging out ends the
 * session for whoever holds a copy of the cookie, a new MERCHANT_PASSWORD ends every session made with
 * the old one, and every instance agrees. Ids and device ids are stored as sha256: someone who can
 * read the table still cannot present them.
 */

/** A session ends this long after login, however busy. */
export const SESSION_MAX_MS = 12 * 60 * 60 * 1000;
/** ...and this long after its last use. */
export const SESSION_IDLE_MS = 30 * 60 * 1000;
/** Activity moves last_seen_at forward at most this often: one write a minute, not one per request. */
const TOUCH_EVERY_MS = 60 * 1000;
/**
 * A browser that has not logged in for this long is forgotten (no longer exempt from the all-clients
 * cap). The session cookie that carries the device id lives 30 days from its last save anyway.
 */
export const DEVICE_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** What newId makes: 32 random bytes, base64url. Anything else in a cookie is not looked up. */
const ID_RE = /^[A-Za-z0-9_-]{43}$/;

function newId(): string {
  return randomBytes(32).toString('base64url');
}

function sha256(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/**
 * Which MERCHANT_PASSWORD a session was made with. Keyed with SESSION_SECRET so the stored value is
 * no offline-guessable hash of the password.
 */
function passwordFingerprint(): string {
  const { sessionSecret, merchantPassword } = getConfig();
  return createHmac('sha256', sessionSecret).update(`merchant-password\0${merchantPassword}`, 'utf8').digest('hex');
}

/** Starts a session after a correct password; returns the id for the cookie. Sweeps ended sessions. */
export async function createMerchantSession(now = Date.now()): Promise<string> {
  const db = await getDb();
  const id = newId();
  await db.insertInto('merchant_sessions').values({
    id_hash: sha256(id),
    password_fp: passwordFingerprint(),
    created_at: nowIso(now),
    last_seen_at: nowIso(now),
    expires_at: nowIso(now + SESSION_MAX_MS),
  }).execute();
  // Best effort, like every sweep here: two racing sweeps can deadlock on PostgreSQL, and a login
  // must not fail for housekeeping; ended rows are refused on use anyway and the next login retries.
  await db.deleteFrom('merchant_sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', nowIso(now)), eb('last_seen_at', '<=', nowIso(now - SESSION_IDLE_MS))]))
    .execute()
    .catch(() => undefined);
  return id;
}

/**
 * True when `id` (from the cookie) is a live merchant session: known, under its absolute and idle
 * limits, and made with the current MERCHANT_PASSWORD. A live session's idle clock restarts; an ended
 * one is deleted.
 */
export async function checkMerchantSession(id: string | undefined, now = Date.now()): Promise<boolean> {
  if (!id || !ID_RE.test(id)) return false;
  const db = await getDb();
  const hash = sha256(id);
  const row = await db.selectFrom('merchant_sessions').selectAll().where('id_hash', '=', hash).executeTakeFirst();
  if (!row) return false;
  const live = Date.parse(row.expires_at) > now
    && Date.parse(row.last_seen_at) + SESSION_IDLE_MS > now
    && row.password_fp === passwordFingerprint();
  if (!live) {
    await db.deleteFrom('merchant_sessions').where('id_hash', '=', hash).execute();
    return false;
  }
  if (now - Date.parse(row.last_seen_at) >= TOUCH_EVERY_MS) {
    // Only forward: a slower request finishing late must not move it back.
    await db.updateTable('merchant_sessions').set({ last_seen_at: nowIso(now) })
      .where('id_hash', '=', hash).where('last_seen_at', '<', nowIso(now)).execute();
  }
  return true;
}

/** Ends a session (logout): the cookie's id, wherever it was copied, no longer logs anyone in. */
export async function revokeMerchantSession(id: string | undefined): Promise<void> {
  if (!id || !ID_RE.test(id)) return;
  const db = await getDb();
  await db.deleteFrom('merchant_sessions').where('id_hash', '=', sha256(id)).execute();
}

/** True when `device` (from the cookie) is a browser the merchant logged in from within DEVICE_TTL_MS. */
export async function isKnownDevice(device: string | undefined, now = Date.now()): Promise<boolean> {
  if (!device || !ID_RE.test(device)) return false;
  const db = await getDb();
  const row = await db.selectFrom('merchant_devices').select('last_login_at').where('id_hash', '=', sha256(device)).executeTakeFirst();
  return !!row && Date.parse(row.last_login_at) + DEVICE_TTL_MS > now;
}

/** The throttle key of a known browser (its hash, never the id itself). */
export function deviceKey(device: string): string {
  return `dev:${sha256(device)}`;
}

/**
 * Records a successful login from this browser: keeps a known device id, or makes a new one. Returns
 * the id for the cookie. Forgets browsers unused for DEVICE_TTL_MS.
 */
export async function rememberDevice(known: string | undefined, now = Date.now()): Promise<string> {
  const db = await getDb();
  const id = known && ID_RE.test(known) ? known : newId();
  await db.insertInto('merchant_devices')
    .values({ id_hash: sha256(id), created_at: nowIso(now), last_login_at: nowIso(now) })
    .onConflict((oc) => oc.column('id_hash').doUpdateSet({ last_login_at: nowIso(now) }))
    .execute();
  await db.deleteFrom('merchant_devices').where('last_login_at', '<=', nowIso(now - DEVICE_TTL_MS)).execute().catch(() => undefined);
  return id;
}
