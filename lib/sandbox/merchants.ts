import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { type AppConfig, getConfig, H5_DOMAIN_RE, MAX_H5_DOMAINS } from '../config';
import { nowIso } from '../db';
import type { SignType } from '../wechatpay/sign';
import { type SandboxDb, sandboxDb } from './db';
import type { SandboxMerchantsTable } from './schema';

/**
 * One merchant the sandbox answers for (WeChat's side of a merchant account): its mch_id, the official
 * account (appid + AppSecret) bound to it, its v2 API key and the sign type its SDK is set to, the
 * web-auth domain (网页授权域名) OAuth redirects may go to, and its JSAPI payment directories.
 */
export interface SandboxMerchant {
  mchId: string;
  appId: string;
  appSecret: string;
  apiKey: string;
  /** The sign type the merchant's SDK uses; WeChat (and the sandbox) accepts either on every request. */
  signType: SignType;
  /** The host (with its port when it has one) every OAuth redirect_uri must be on. */
  oauthDomain: string;
  /** JSAPI payment directories (支付授权目录), each an absolute URL ending in `/`. */
  payDirectories: string[];
  /** H5 payment domains (H5支付域名): host names the H5 cashier's Referer must be on (a subdomain counts). */
  h5Domains: string[];
  /** Whether the merchant has H5 payment (MWEB) at all; the dashboard's switch (./h5.ts) overrides it. */
  h5Pay: boolean;
  /** `env`: the checkout's own (WECHAT_APPID, WECHATPAY_MCH_ID, ...); `file`: SANDBOX_MERCHANTS_FILE; `api`: the dashboard or POST /sandbox/sim/merchants. */
  source: 'env' | 'file' | 'api';
  name: string;
}

/** Fields a new merchant may be given; anything left out is generated (mch_id, appid, keys) or defaulted. */
export interface MerchantInput {
  mch_id?: unknown;
  appid?: unknown;
  app_secret?: unknown;
  api_key?: unknown;
  sign_type?: unknown;
  oauth_domain?: unknown;
  pay_directories?: unknown;
  h5_domains?: unknown;
  h5_pay?: unknown;
  name?: unknown;
}

export type MerchantParse = { ok: true; row: Omit<SandboxMerchantsTable, 'source' | 'v3_keys' | 'created_at'> } | { ok: false; message: string };

/** WeChat keeps at most 5 JSAPI payment directories per merchant. */
const MAX_DIRS = 5;
const DIR = /^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?\/$/;
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomKey(): string {
  const b = randomBytes(32);
  let s = '';
  for (let i = 0; i < 32; i++) s += ALNUM[b[i] % ALNUM.length];
  return s;
}

/**
 * Validates one merchant (from the file, the dashboard form or the JSON API) with the same rules the
 * app's configuration applies to its own (docs/configuration.md): mch_id digits, appid `wx` + 16, a
 * 32-byte API key. Missing identity and keys are generated; a bad value is named and nothing is stored.
 */
export function parseMerchantInput(raw: unknown, opts: { requireIdentity?: boolean } = {}): MerchantParse {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, message: 'a merchant must be a JSON object' };
  const r = raw as MerchantInput;
  const known = new Set(['mch_id', 'appid', 'app_secret', 'api_key', 'sign_type', 'oauth_domain', 'pay_directories', 'h5_domains', 'h5_pay', 'name']);
  const unknown = Object.keys(r).find((k) => !known.has(k));
  if (unknown) return { ok: false, message: `unknown field "${unknown}" (known: ${[...known].join(', ')})` };
  const str = (k: keyof MerchantInput): string | undefined | null => {
    const v = r[k];
    if (v === undefined || v === null || v === '') return undefined;
    return typeof v === 'string' ? v.trim() : null;
  };
  for (const k of ['mch_id', 'appid', 'app_secret', 'api_key', 'sign_type', 'oauth_domain', 'name'] as const) {
    if (str(k) === null) return { ok: false, message: `${k} must be a string` };
  }
  // A file is read at every start: generated identities would change each time, so it must name them.
  if (opts.requireIdentity) for (const k of ['mch_id', 'appid', 'api_key'] as const) if (str(k) === undefined) return { ok: false, message: `${k} is missing` };
  const mchId = str('mch_id') ?? `19${String(randomInt(10_000_000, 99_999_999))}`;
  if (!/^\d{6,20}$/.test(mchId)) return { ok: false, message: `mch_id must be 6 to 20 digits, got "${mchId}"` };
  const appId = str('appid') ?? `wx${randomBytes(8).toString('hex')}`;
  if (!/^wx[0-9a-zA-Z]{16}$/.test(appId)) return { ok: false, message: `appid must be "wx" followed by 16 letters or digits, got "${appId}"` };
  const apiKey = str('api_key') ?? randomKey();
  if (Buffer.byteLength(apiKey, 'utf8') !== 32) return { ok: false, message: `api_key must be exactly 32 bytes (the v2 key set in the merchant portal), got ${Buffer.byteLength(apiKey, 'utf8')}` };
  // Derived, not random, when left out: the same file gives the same AppSecret at every start.
  const appSecret = str('app_secret') ?? createHmac('sha256', apiKey).update(`sandbox-app-secret:${appId}`).digest('hex').slice(0, 32);
  if (!/^[0-9A-Za-z]{16,64}$/.test(appSecret)) return { ok: false, message: 'app_secret must be 16 to 64 letters or digits' };
  const signType = str('sign_type') ?? 'MD5';
  if (signType !== 'MD5' && signType !== 'HMAC-SHA256') return { ok: false, message: `sign_type must be MD5 or HMAC-SHA256, got "${signType}"` };
  const oauthDomain = str('oauth_domain') ?? 'localhost';
  if (!HOST.test(oauthDomain)) return { ok: false, message: `oauth_domain must be a host such as shop.example.com or localhost:8000 (no scheme, no path), got "${oauthDomain}"` };
  let dirs: string[] = [];
  if (r.pay_directories !== undefined && r.pay_directories !== null) {
    const list = typeof r.pay_directories === 'string' ? r.pay_directories.split(/[\s,]+/) : r.pay_directories;
    if (!Array.isArray(list) || list.some((d) => typeof d !== 'string')) return { ok: false, message: 'pay_directories must be an array of URLs' };
    dirs = (list as string[]).map((d) => d.trim()).filter((d) => d !== '');
    const bad = dirs.find((d) => !DIR.test(d));
    if (bad !== undefined) return { ok: false, message: `pay_directories: each must be an http(s) URL ending in "/" (a directory, no query), got "${bad}"` };
    if (dirs.length > MAX_DIRS) return { ok: false, message: `pay_directories: WeChat keeps at most ${MAX_DIRS} payment directories, got ${dirs.length}` };
  }
  let h5Domains: string[] | null = null;
  if (r.h5_domains !== undefined && r.h5_domains !== null) {
    const list = typeof r.h5_domains === 'string' ? r.h5_domains.split(/[\s,]+/) : r.h5_domains;
    if (!Array.isArray(list) || list.some((d) => typeof d !== 'string')) return { ok: false, message: 'h5_domains must be an array of host names' };
    h5Domains = (list as string[]).map((d) => d.trim().toLowerCase()).filter((d) => d !== '');
    const bad = h5Domains.find((d) => !H5_DOMAIN_RE.test(d));
    if (bad !== undefined) return { ok: false, message: `h5_domains: each must be a host name such as shop.example.com (no scheme, port or path), got "${bad}"` };
    if (h5Domains.length > MAX_H5_DOMAINS) return { ok: false, message: `h5_domains: at most ${MAX_H5_DOMAINS} H5 domains, got ${h5Domains.length}` };
  }
  if (r.h5_pay !== undefined && r.h5_pay !== null && typeof r.h5_pay !== 'boolean') return { ok: false, message: 'h5_pay must be true or false (false: the merchant has no H5 payment permission, MWEB answers NO_AUTH)' };
  const name = (str('name') ?? `沙箱商户 ${mchId}`).slice(0, 40);
  return {
    ok: true,
    row: {
      mch_id: mchId, appid: appId, app_secret: appSecret, api_key: apiKey, sign_type: signType, oauth_domain: oauthDomain, pay_directories: JSON.stringify(dirs), name,
      h5_domains: h5Domains === null ? null : JSON.stringify(h5Domains), h5_pay: r.h5_pay === false ? 0 : null,
    },
  };
}

/** The checkout's own merchant, from its configuration: the default of the embedded sandbox. */
export function envMerchant(config: AppConfig = getConfig()): SandboxMerchant {
  return {
    mchId: config.mchId,
    appId: config.appId,
    appSecret: config.appSecret,
    apiKey: config.apiKey,
    signType: config.signType,
    // Embedded, OAuth returns to the checkout itself; on its own the backends it serves run elsewhere on this machine.
    oauthDomain: process.env.SANDBOX_ONLY === '1' ? 'localhost' : new URL(config.publicBaseUrl).host,
    payDirectories: config.sandboxPayDirectories,
    h5Domains: config.sandboxH5Domains,
    h5Pay: true,
    source: 'env',
    name: `沙箱商户 ${config.mchId}`,
  };
}

function fromRow(r: SandboxMerchantsTable): SandboxMerchant {
  return {
    mchId: r.mch_id,
    appId: r.appid,
    appSecret: r.app_secret,
    apiKey: r.api_key,
    signType: r.sign_type === 'HMAC-SHA256' ? 'HMAC-SHA256' : 'MD5',
    oauthDomain: r.oauth_domain,
    payDirectories: JSON.parse(r.pay_directories) as string[],
    h5Domains: r.h5_domains ? (JSON.parse(r.h5_domains) as string[]) : [r.oauth_domain.replace(/:\d+$/, '').toLowerCase()],
    h5Pay: r.h5_pay !== 0,
    source: r.source === 'file' ? 'file' : 'api',
    name: r.name,
  };
}

/** The merchant a v2 mch_id or a v3 Authorization mchid names, or undefined (WeChat's MCHID_NOT_EXIST). */
export async function findMerchant(mchId: string, db?: SandboxDb): Promise<SandboxMerchant | undefined> {
  const env = envMerchant();
  if (mchId === env.mchId) return env;
  const row = await (db ?? (await sandboxDb())).selectFrom('sandbox_merchants').selectAll().where('mch_id', '=', mchId).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

/** The merchant whose official account is `appid` (OAuth, the JSAPI bridge), or undefined. */
export async function merchantByAppId(appId: string, db?: SandboxDb): Promise<SandboxMerchant | undefined> {
  const env = envMerchant();
  if (appId === env.appId) return env;
  const row = await (db ?? (await sandboxDb())).selectFrom('sandbox_merchants').selectAll().where('appid', '=', appId).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

/** Every merchant: the checkout's own first, then the file's and the created ones, oldest first. */
export async function listMerchants(): Promise<SandboxMerchant[]> {
  const db = await sandboxDb();
  const rows = await db.selectFrom('sandbox_merchants').selectAll().orderBy('created_at', 'asc').orderBy('mch_id', 'asc').execute();
  return [envMerchant(), ...rows.map(fromRow)];
}

export type CreateMerchant = { ok: true; merchant: SandboxMerchant } | { ok: false; code: 'BAD_REQUEST' | 'MERCHANT_EXISTS'; message: string };

/**
 * Adds a merchant from the dashboard or the JSON API. Its mch_id and appid must be new (one official
 * account per merchant here, so OAuth knows whose AppSecret to check); nothing is stored otherwise.
 */
export async function createMerchant(raw: unknown): Promise<CreateMerchant> {
  const p = parseMerchantInput(raw);
  if (!p.ok) return { ok: false, code: 'BAD_REQUEST', message: p.message };
  const db = await sandboxDb();
  const clash = await clashOf(db, p.row.mch_id, p.row.appid);
  if (clash) return { ok: false, code: 'MERCHANT_EXISTS', message: clash };
  try {
    await db.insertInto('sandbox_merchants').values({ ...p.row, source: 'api', v3_keys: null, created_at: nowIso() }).execute();
  } catch {
    // A concurrent create of the same mch_id or appid won the insert (both are unique).
    return { ok: false, code: 'MERCHANT_EXISTS', message: `mch_id ${p.row.mch_id} or appid ${p.row.appid} was just created by another request` };
  }
  return { ok: true, merchant: (await findMerchant(p.row.mch_id, db))! };
}

async function clashOf(db: SandboxDb, mchId: string, appId: string, exceptMchId?: string): Promise<string | undefined> {
  const env = envMerchant();
  if (mchId === env.mchId) return `mch_id ${mchId} is the checkout's own merchant`;
  if (appId === env.appId) return `appid ${appId} belongs to the checkout's own merchant ${env.mchId}`;
  const rows = await db.selectFrom('sandbox_merchants').select(['mch_id', 'appid']).where((eb) => eb.or([eb('mch_id', '=', mchId), eb('appid', '=', appId)])).execute();
  const other = rows.find((r) => r.mch_id !== exceptMchId);
  if (!other) return undefined;
  return other.mch_id === mchId ? `mch_id ${mchId} already exists` : `appid ${appId} already belongs to merchant ${other.mch_id}`;
}

/**
 * Makes the table hold exactly the file's merchants (source `file`): new ones inserted, changed ones
 * updated (their generated v3 keys kept), ones no longer in the file removed. Merchants created on the
 * dashboard are left alone, but a file entry may not take their mch_id or appid. Run at start-up after
 * readMerchantsFile has validated the whole file, so a bad file changes nothing.
 */
export async function syncFileMerchants(rows: Array<Omit<SandboxMerchantsTable, 'source' | 'v3_keys' | 'created_at'>>): Promise<string[]> {
  const db = await sandboxDb();
  const errors: string[] = [];
  for (const row of rows) {
    const clash = await clashOf(db, row.mch_id, row.appid, row.mch_id);
    const mine = await db.selectFrom('sandbox_merchants').select('source').where('mch_id', '=', row.mch_id).executeTakeFirst();
    if (clash) errors.push(`merchant ${row.mch_id}: ${clash}`);
    else if (mine && mine.source !== 'file') errors.push(`merchant ${row.mch_id}: mch_id already exists (created on the dashboard)`);
  }
  if (errors.length > 0) return errors;
  await db.transaction().execute(async (trx) => {
    const keep = rows.map((r) => r.mch_id);
    let del = trx.deleteFrom('sandbox_merchants').where('source', '=', 'file');
    if (keep.length > 0) del = del.where('mch_id', 'not in', keep);
    await del.execute();
    for (const row of rows) {
      await trx.insertInto('sandbox_merchants').values({ ...row, source: 'file', v3_keys: null, created_at: nowIso() })
        .onConflict((oc) => oc.column('mch_id').doUpdateSet({ appid: row.appid, app_secret: row.app_secret, api_key: row.api_key, sign_type: row.sign_type, oauth_domain: row.oauth_domain, pay_directories: row.pay_directories, h5_domains: row.h5_domains, h5_pay: row.h5_pay, name: row.name }))
        .execute();
    }
  });
  return [];
}

/** A merchant as GET /sandbox/sim/merchants answers it (snake_case, like the wire), with where its v3 keys are. */
export function merchantJson(m: SandboxMerchant) {
  return {
    mch_id: m.mchId,
    appid: m.appId,
    app_secret: m.appSecret,
    api_key: m.apiKey,
    sign_type: m.signType,
    oauth_domain: m.oauthDomain,
    pay_directories: m.payDirectories,
    h5_domains: m.h5Domains,
    h5_pay: m.h5Pay,
    name: m.name,
    source: m.source,
    v3_keys_url: `/sandbox/sim/keys?mch_id=${m.mchId}`,
  };
}
