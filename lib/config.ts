import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SignType } from './wechatpay/sign';
import { type ApiVersion, parseV3Settings, type V3Settings } from './config-v3';

export type { ApiVersion, SandboxV3Keys, V3Settings } from './config-v3';
export { generateSandboxV3Keys, sandboxV3Keys } from './config-v3';

/** The sandbox's fixed identity: WeChat's own documentation example merchant (docs/wechatpay-v2.md §1). */
export const SANDBOX_APPID = 'wxd930ea5d5a258f4f';
export const SANDBOX_APP_SECRET = 'sandbox0app0secret0not0for0live00';
export const SANDBOX_MCH_ID = '10000100';
export const SANDBOX_API_KEY = '192006250b4c09247ec02edce69f6a2d';
/**
 * The shortest ORDER_TTL_MINUTES. WeChat refuses a JSAPI/NATIVE unifiedorder whose time_expire is less
 * than 5 minutes after WeChat's clock (time_expire时间过短，刷卡至少1分钟，其他5分钟); one more minute
 * leaves room for our clock running ahead of WeChat's and for the time between computing time_expire
 * and WeChat reading it (a re-submission of an unanswered unifiedorder sends the same time_expire later).
 */
export const MIN_ORDER_TTL_MINUTES = 6;

export type WechatMode = 'sandbox' | 'live';

/** WECHATPAY_MWEB's values (docs/configuration.md). */
export type MwebSetting = 'auto' | 'on' | 'off';
export const MWEB_SETTINGS: readonly MwebSetting[] = ['auto', 'on', 'off'];

/** The reconciler's sweep: RECONCILE_INTERVAL_MS (0 = off), RECONCILE_GRACE_MS, RECONCILE_BATCH. */
export interface ReconcilerSettings {
  /** How often a sweep runs; 0 disables the reconciler. */
  intervalMs: number;
  /** How long an attempt or refund may stay quiet before WeChat is asked about it. */
  graceMs: number;
  /** Rows per kind per sweep. */
  batch: number;
}

/** New orders startPayment may make per ORDER_RATE_WINDOW (10 minutes); 0 turns a limit off. */
export interface OrderRateSettings {
  /** ORDER_RATE_PER_BUYER: per buyer (the browser's buyer id). */
  perBuyer: number;
  /** ORDER_RATE_PER_IP: per client address (the client-IP rule, see TRUST_PROXY). */
  perIp: number;
}

/** The webhook deliverer (docs/webhooks.md): WEBHOOK_TIME_SCALE, WEBHOOK_POLL_MS, WEBHOOK_CONCURRENCY. */
export interface WebhookSettings {
  /** Divides the retry schedule (15 s ... 6 h), so tests see 15 s as 15 ms at 1000. 1 in live mode. */
  timeScale: number;
  /** How often this instance looks for due deliveries it was not woken for (other instances' events); 0 = no deliverer here. */
  pollMs: number;
  /** Deliveries this instance sends at once. */
  concurrency: number;
}

/** Every setting of docs/configuration.md, parsed once and typed. */
export interface AppConfig {
  mode: WechatMode;
  port: number;
  publicBaseUrl: string;
  appId: string;
  appSecret: string;
  mchId: string;
  apiKey: string;
  signType: SignType;
  /** WECHATPAY_API_VERSION: which protocol new payments use (v2 default). */
  apiVersion: ApiVersion;
  /**
   * WECHATPAY_MWEB: H5 payment (MWEB) for phone browsers outside WeChat. `auto` (default): try it, and
   * once WeChat answers NO_AUTH (no H5 permission) remember that and fall back to open-in-WeChat + QR;
   * `on`: always try it; `off`: never (open-in-WeChat + QR).
   */
  mweb: MwebSetting;
  /** The v3 credentials when apiVersion is v3 (docs/configuration.md). */
  v3?: V3Settings;
  /** Path to apiclient_cert.p12; needed for refunds in live mode. */
  certP12Path?: string;
  sessionSecret: string;
  merchantPassword: string;
  databaseUrl: string;
  dbKind: 'sqlite' | 'postgres';
  /**
   * DATABASE_POOL_MAX: PostgreSQL connections this instance may open (default 20). A write transaction
   * holds its connection for all its round trips, each waiting its turn on a busy event loop, so a
   * pool too small caps notifies per second before the CPU does. SQLite: one connection, unused.
   */
  dbPoolMax: number;
  /**
   * DATABASE_NAMED_STATEMENTS: 1 (default) sends PostgreSQL the hot statements as named prepared
   * statements, parsed once per session (lib/db/pg-named.ts); 0 sends them unnamed, for a pooler that
   * moves a client between sessions (PgBouncer in transaction mode without prepared-statement support).
   */
  dbNamedStatements: boolean;
  trustProxy: boolean;
  orderTtlMinutes: number;
  /** Where the data dir lives (SQLite file's folder; holds the sandbox's generated session secret). */
  dataDir: string;
  /** WeChat Pay API base (`https://api.mch.weixin.qq.com` live; the sandbox's `/sandbox/mch` otherwise). */
  mchBaseUrl: string;
  /** Browser-facing OAuth authorize base (`https://open.weixin.qq.com` live). */
  openBaseUrl: string;
  /** Server-to-server OAuth token base (`https://api.weixin.qq.com` live). */
  apiBaseUrl: string;
  /** Sandbox only: divides the notify retry schedule, so tests see 15 s as 15 ms at 1000. */
  sandboxTimeScale: number;
  /**
   * Sandbox only: the JSAPI payment directories (支付授权目录) the sandbox's bridge holds pages to
   * (SANDBOX_PAY_DIRECTORIES); default this checkout's own, PUBLIC_BASE_URL + /shop/ and /pay/.
   */
  sandboxPayDirectories: string[];
  /**
   * Sandbox only: the H5 payment domains (H5支付域名) the sandbox's H5 cashier holds the Referer to
   * (SANDBOX_H5_DOMAINS, host names); default this checkout's own host.
   */
  sandboxH5Domains: string[];
  /**
   * Sandbox only: how old (seconds) a trade must be before closeorder closes it. WeChat's is 5 minutes
   * (订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟); tests that close at once set 0.
   */
  sandboxCloseMinAgeS: number;
  /**
   * Sandbox only: hours after the start of a bill's UTC+8 day when its bill exists. WeChat's is 34
   * (微信在次日9点启动生成前一天的对账单，建议商户10点后再获取: 10:00 the next morning); tests that read
   * today's bill set 0.
   */
  sandboxBillReadyHour: number;
  reconcile: ReconcilerSettings;
  orderRate: OrderRateSettings;
  webhooks: WebhookSettings;
  /** METRICS_TOKEN: the Bearer token GET /api/metrics asks for; live mode serves no metrics without one. */
  metricsToken?: string;
  /** LOG_LEVEL (lib/log reads it itself; checked here so a typo refuses to start). */
  logLevel: string;
  /** SHUTDOWN_TIMEOUT_MS: how long a SIGTERM may wait for in-flight work before the process gives up and exits 1. */
  shutdownTimeoutMs: number;
}

/** LOG_LEVEL's values (pino's levels). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export type ConfigResult = { ok: true; config: AppConfig } | { ok: false; errors: string[] };

type Env = Record<string, string | undefined>;

/** Parses and validates the environment. In live mode every missing or malformed variable is named. */
export function parseConfig(env: Env = process.env): ConfigResult {
  const errors: string[] = [];
  const val = (k: string) => {
    const v = env[k];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const modeRaw = val('WECHAT_MODE') ?? 'sandbox';
  if (modeRaw !== 'sandbox' && modeRaw !== 'live') errors.push(`WECHAT_MODE: must be "sandbox" or "live", got "${modeRaw}"`);
  const mode: WechatMode = modeRaw === 'live' ? 'live' : 'sandbox';
  const live = mode === 'live';

  // The sandbox on its own (SANDBOX_ONLY=1, `npm run sandbox`) has its own port and database by default,
  // so it can run beside a checkout on the defaults.
  const sandboxOnly = env.SANDBOX_ONLY === '1';
  if (sandboxOnly && live) errors.push('SANDBOX_ONLY: the sandbox on its own runs in sandbox mode only (unset WECHAT_MODE=live)');
  const port = intVar(val('PORT'), sandboxOnly ? 3100 : 3000, 'PORT', 1, 65535, errors);
  const publicBaseUrl = (val('PUBLIC_BASE_URL') ?? `http://localhost:${port}`).replace(/\/+$/, '');
  if (live && val('PUBLIC_BASE_URL') === undefined) {
    errors.push('PUBLIC_BASE_URL: missing (required in live mode: the https origin buyers and WeChat reach)');
  } else if (!/^https?:\/\/[^/?#\s]+$/.test(publicBaseUrl)) {
    errors.push(`PUBLIC_BASE_URL: must be an origin like https://shop.example.com (no path), got "${publicBaseUrl}"`);
  } else if (live && !publicBaseUrl.startsWith('https://')) {
    errors.push('PUBLIC_BASE_URL: must be https in live mode (WeChat calls notify_url and OAuth redirect_uri over it)');
  }

  const need = (k: string, dflt: string): string => {
    const v = val(k);
    if (v !== undefined) return v;
    if (live) {
      errors.push(`${k}: missing (required in live mode)`);
      return '';
    }
    return dflt;
  };
  const appId = need('WECHAT_APPID', SANDBOX_APPID);
  if (appId && !/^wx[0-9a-zA-Z]{16}$/.test(appId)) errors.push(`WECHAT_APPID: must be "wx" followed by 16 letters or digits, got "${appId}"`);
  const appSecret = need('WECHAT_APP_SECRET', SANDBOX_APP_SECRET);
  const mchId = need('WECHATPAY_MCH_ID', SANDBOX_MCH_ID);
  if (mchId && !/^\d{6,20}$/.test(mchId)) errors.push(`WECHATPAY_MCH_ID: must be digits, got "${mchId}"`);
  // API v3 merchants (registered since late 2024) may have no v2 key at all: with v3 it is optional, and
  // without it every v2 XML notify is refused as unverifiable (lib/checkout/gateway/notifies.ts).
  const v3Only = val('WECHATPAY_API_VERSION') === 'v3';
  const apiKey = v3Only && live ? (val('WECHATPAY_API_KEY') ?? '') : need('WECHATPAY_API_KEY', SANDBOX_API_KEY);
  if (apiKey && Buffer.byteLength(apiKey, 'utf8') !== 32) {
    errors.push(`WECHATPAY_API_KEY: must be exactly 32 bytes (the v2 key set in the merchant portal), got ${Buffer.byteLength(apiKey, 'utf8')}`);
  }
  const signRaw = val('WECHATPAY_SIGN_TYPE') ?? 'MD5';
  if (signRaw !== 'MD5' && signRaw !== 'HMAC-SHA256') errors.push(`WECHATPAY_SIGN_TYPE: must be MD5 or HMAC-SHA256, got "${signRaw}"`);
  const signType: SignType = signRaw === 'HMAC-SHA256' ? 'HMAC-SHA256' : 'MD5';

  const certP12Path = val('WECHATPAY_CERT_P12');
  if (certP12Path) {
    try {
      accessSync(certP12Path, constants.R_OK);
    } catch {
      errors.push(`WECHATPAY_CERT_P12: cannot read "${certP12Path}"`);
    }
  }

  const versionRaw = val('WECHATPAY_API_VERSION') ?? 'v2';
  if (versionRaw !== 'v2' && versionRaw !== 'v3') errors.push(`WECHATPAY_API_VERSION: must be v2 or v3, got "${versionRaw}"`);
  const apiVersion: ApiVersion = versionRaw === 'v3' ? 'v3' : 'v2';

  const databaseUrl = val('DATABASE_URL') ?? (sandboxOnly ? 'file:./data/sandbox/sandbox.db' : 'file:./data/checkout.db');
  let dbKind: 'sqlite' | 'postgres' = 'sqlite';
  let dataDir = path.resolve('data');
  if (databaseUrl.startsWith('file:')) {
    dataDir = path.dirname(path.resolve(databaseUrl.slice('file:'.length)));
  } else if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    dbKind = 'postgres';
  } else {
    errors.push(`DATABASE_URL: must be file:PATH or postgres://..., got "${databaseUrl}"`);
  }

  const dbPoolMax = intVar(val('DATABASE_POOL_MAX'), 20, 'DATABASE_POOL_MAX', 1, 1000, errors);
  const namedRaw = val('DATABASE_NAMED_STATEMENTS');
  if (namedRaw !== undefined && namedRaw !== '0' && namedRaw !== '1') errors.push(`DATABASE_NAMED_STATEMENTS: must be 1 (default) or 0, got "${namedRaw}"`);
  const dbNamedStatements = namedRaw !== '0';

  const merchantPassword = need('MERCHANT_PASSWORD', 'sandbox');
  if (live && merchantPassword && merchantPassword.length < 12) errors.push('MERCHANT_PASSWORD: must be at least 12 characters in live mode');

  let sessionSecret = val('SESSION_SECRET');
  if (sessionSecret !== undefined && sessionSecret.length < 32) errors.push('SESSION_SECRET: must be at least 32 characters');
  if (sessionSecret === undefined) {
    if (live) errors.push('SESSION_SECRET: missing (required in live mode, at least 32 characters)');
    else if (errors.length === 0) sessionSecret = sandboxSessionSecret(dataDir);
  }

  const ttlErrors: string[] = [];
  const orderTtlMinutes = intVar(val('ORDER_TTL_MINUTES'), 15, 'ORDER_TTL_MINUTES', MIN_ORDER_TTL_MINUTES, 7 * 24 * 60, ttlErrors);
  // Say why the floor is 6: a smaller window is refused by WeChat on every live payment.
  for (const e of ttlErrors) errors.push(`${e} (WeChat refuses a time_expire less than 5 minutes away; the extra minute absorbs clock skew)`);
  // A typo refuses to start instead of silently running on the defaults.
  const reconcile: ReconcilerSettings = {
    intervalMs: intVar(val('RECONCILE_INTERVAL_MS'), 30_000, 'RECONCILE_INTERVAL_MS', 0, 86_400_000, errors),
    graceMs: intVar(val('RECONCILE_GRACE_MS'), 60_000, 'RECONCILE_GRACE_MS', 0, 86_400_000, errors),
    batch: intVar(val('RECONCILE_BATCH'), 50, 'RECONCILE_BATCH', 1, 10_000, errors),
  };
  const orderRate: OrderRateSettings = {
    perBuyer: intVar(val('ORDER_RATE_PER_BUYER'), 10, 'ORDER_RATE_PER_BUYER', 0, 100_000, errors),
    perIp: intVar(val('ORDER_RATE_PER_IP'), 30, 'ORDER_RATE_PER_IP', 0, 100_000, errors),
  };
  const webhookScaleRaw = val('WEBHOOK_TIME_SCALE');
  const webhookTimeScale = webhookScaleRaw === undefined ? 1 : Number(webhookScaleRaw);
  if (!(webhookTimeScale >= 1) || !Number.isFinite(webhookTimeScale)) errors.push(`WEBHOOK_TIME_SCALE: must be a number >= 1, got "${webhookScaleRaw}"`);
  const webhooks: WebhookSettings = {
    // A scaled schedule in live mode would spend a merchant's whole retry window in seconds: tests only.
    timeScale: live ? 1 : webhookTimeScale,
    pollMs: intVar(val('WEBHOOK_POLL_MS'), 5_000, 'WEBHOOK_POLL_MS', 0, 3_600_000, errors),
    concurrency: intVar(val('WEBHOOK_CONCURRENCY'), 8, 'WEBHOOK_CONCURRENCY', 1, 100, errors),
  };
  // A poll every few milliseconds would be a busy loop on the database; 0 (off) is the only value below 20.
  if (webhooks.pollMs > 0 && webhooks.pollMs < 20) errors.push(`WEBHOOK_POLL_MS: must be 0 (off) or from 20 to 3600000, got "${val('WEBHOOK_POLL_MS')}"`);
  const trustRaw = val('TRUST_PROXY');
  if (trustRaw !== undefined && !['0', '1', 'true', 'false'].includes(trustRaw)) errors.push(`TRUST_PROXY: must be 1 or unset, got "${trustRaw}"`);
  const trustProxy = trustRaw === '1' || trustRaw === 'true';
  const sandboxCloseMinAgeS = intVar(val('SANDBOX_CLOSE_MIN_AGE_S'), 300, 'SANDBOX_CLOSE_MIN_AGE_S', 0, 3600, errors);
  const sandboxBillReadyHour = intVar(val('SANDBOX_BILL_READY_HOUR'), 34, 'SANDBOX_BILL_READY_HOUR', 0, 48, errors);
  const scaleRaw = val('SANDBOX_TIME_SCALE');
  const sandboxTimeScale = scaleRaw === undefined ? 1 : Number(scaleRaw);
  if (!(sandboxTimeScale >= 1)) errors.push(`SANDBOX_TIME_SCALE: must be a number >= 1, got "${scaleRaw}"`);
  const sandboxPayDirectories = parsePayDirectories(val('SANDBOX_PAY_DIRECTORIES'), publicBaseUrl, errors);
  const sandboxH5Domains = parseH5Domains(val('SANDBOX_H5_DOMAINS'), publicBaseUrl, errors);
  const mwebRaw = (val('WECHATPAY_MWEB') ?? 'auto').toLowerCase();
  if (!(MWEB_SETTINGS as readonly string[]).includes(mwebRaw)) errors.push(`WECHATPAY_MWEB: must be auto, on or off, got "${val('WECHATPAY_MWEB')}"`);
  const mweb = (MWEB_SETTINGS as readonly string[]).includes(mwebRaw) ? (mwebRaw as MwebSetting) : 'auto';

  const v3 = apiVersion === 'v3' ? parseV3Settings(val, live, dataDir, mchId, errors) : undefined;

  const metricsToken = val('METRICS_TOKEN');
  // A scrape token is a password for the instance's internals: short ones are guessable.
  if (metricsToken !== undefined && metricsToken.length < 16) errors.push('METRICS_TOKEN: must be at least 16 characters');
  const logLevel = val('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) errors.push(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const shutdownTimeoutMs = intVar(val('SHUTDOWN_TIMEOUT_MS'), 25_000, 'SHUTDOWN_TIMEOUT_MS', 1_000, 600_000, errors);

  if (errors.length > 0) return { ok: false, errors };
  const internal = `http://127.0.0.1:${port}/sandbox`;
  return {
    ok: true,
    config: {
      mode, port, publicBaseUrl, appId, appSecret, mchId, apiKey, signType, apiVersion, mweb, v3, certP12Path,
      sessionSecret: sessionSecret!, merchantPassword, databaseUrl, dbKind, dbPoolMax, dbNamedStatements, trustProxy, orderTtlMinutes, dataDir,
      mchBaseUrl: live ? 'https://api.mch.weixin.qq.com' : (val('SANDBOX_MCH_BASE_URL') ?? `${internal}/mch`),
      openBaseUrl: live ? 'https://open.weixin.qq.com' : `${publicBaseUrl}/sandbox/open`,
      apiBaseUrl: live ? 'https://api.weixin.qq.com' : `${internal}/api`,
      sandboxTimeScale: live ? 1 : sandboxTimeScale,
      sandboxPayDirectories,
      sandboxH5Domains,
      sandboxCloseMinAgeS,
      sandboxBillReadyHour,
      reconcile,
      orderRate,
      webhooks,
      metricsToken,
      logLevel,
      shutdownTimeoutMs,
    },
  };
}

/** WeChat keeps at most 5 JSAPI payment directories per merchant. */
export const MAX_PAY_DIRECTORIES = 5;

/**
 * SANDBOX_PAY_DIRECTORIES: comma-separated absolute http(s) URLs, each a directory (ending in `/`,
 * no query or fragment), at most MAX_PAY_DIRECTORIES, as WeChat's merchant portal takes them.
 */
function parsePayDirectories(raw: string | undefined, publicBaseUrl: string, errors: string[]): string[] {
  if (raw === undefined) return [`${publicBaseUrl}/shop/`, `${publicBaseUrl}/pay/`];
  const dirs = raw.split(',').map((d) => d.trim()).filter((d) => d !== '');
  const bad = dirs.find((d) => !/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?\/$/.test(d));
  if (dirs.length === 0 || bad !== undefined) {
    errors.push(`SANDBOX_PAY_DIRECTORIES: must be comma-separated http(s) URLs each ending in "/" (a directory, no query), got "${bad ?? raw}"`);
  } else if (dirs.length > MAX_PAY_DIRECTORIES) {
    errors.push(`SANDBOX_PAY_DIRECTORIES: WeChat keeps at most ${MAX_PAY_DIRECTORIES} payment directories, got ${dirs.length}`);
  }
  return dirs;
}

/** WeChat takes a handful of H5 domains per merchant; the sandbox keeps the same bound. */
export const MAX_H5_DOMAINS = 5;
/** A host name as WeChat's merchant portal takes an H5 domain: no scheme, port or path. */
export const H5_DOMAIN_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** SANDBOX_H5_DOMAINS: comma-separated host names (default: PUBLIC_BASE_URL's), lower-cased as hosts compare. */
function parseH5Domains(raw: string | undefined, publicBaseUrl: string, errors: string[]): string[] {
  if (raw === undefined) {
    try {
      return [new URL(publicBaseUrl).hostname];
    } catch {
      return [];
    }
  }
  const list = raw.split(',').map((d) => d.trim().toLowerCase()).filter((d) => d !== '');
  const bad = list.find((d) => !H5_DOMAIN_RE.test(d));
  if (list.length === 0 || bad !== undefined) {
    errors.push(`SANDBOX_H5_DOMAINS: must be comma-separated host names such as shop.example.com (no scheme, port or path), got "${bad ?? raw}"`);
  } else if (list.length > MAX_H5_DOMAINS) {
    errors.push(`SANDBOX_H5_DOMAINS: at most ${MAX_H5_DOMAINS} H5 domains, got ${list.length}`);
  }
  return list;
}

function intVar(raw: string | undefined, dflt: number, name: string, min: number, max: number, errors: string[]): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    errors.push(`${name}: must be an integer from ${min} to ${max}, got "${raw}"`);
    return dflt;
  }
  return n;
}

/** Sandbox only: a random secret generated on first start and kept in the data dir, so sessions survive restarts. */
function sandboxSessionSecret(dataDir: string): string {
  const file = path.join(dataDir, 'session-secret');
  try {
    const s = readFileSync(file, 'utf8').trim();
    if (s.length >= 32) return s;
  } catch {
    /* first start */
  }
  mkdirSync(dataDir, { recursive: true });
  const s = randomBytes(32).toString('hex');
  writeFileSync(file, s, { mode: 0o600 });
  return s;
}

let cached: AppConfig | undefined;

/** The process's configuration; throws with every problem listed when it is invalid. */
export function getConfig(): AppConfig {
  if (cached) return cached;
  const r = parseConfig();
  if (!r.ok) throw new Error(`Invalid configuration:\n  - ${r.errors.join('\n  - ')}`);
  cached = r.config;
  return cached;
}
