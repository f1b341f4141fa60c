import pino, { type DestinationStream, type Level, type Logger, type LoggerOptions } from 'pino';

/*
 * The process's one logger: pino, one JSON object per line on stdout, for a log shipper to read
 * (docs/operations.md, "Logs"). Framework-free: lib/checkout, lib/sandbox, lib/startup and app/ all log
 * through it, and it imports nothing of the repository.
 *
 * Secrets never reach a line, whatever a caller passes:
 *  - any field whose NAME says it holds one (key, secret, password, token, authorization, cookie, sign,
 *    signature, at any depth, any case: `apiKey`, `webhook_secret`, `Authorization`, `sk_...` under
 *    `key`) is replaced by "[redacted]";
 *  - any field named like an openid keeps only its first and last four characters (enough to match it
 *    against the merchant page, not enough to be the buyer's identity);
 *  - the VALUES registered with registerSecrets (the WeChat API key, the app secret, SESSION_SECRET,
 *    MERCHANT_PASSWORD, METRICS_TOKEN: lib/startup.ts) are cut out of every string, messages and error
 *    stacks included, in case one ends up inside a text.
 */

/** Field names whose value is a secret (matched anywhere in the name, any case). */
const SECRET_NAME = /key|secret|passw(or)?d|token|authorization|cookie|^sign$|signature|credential/i;
/** Field names whose value is a buyer's openid. */
const OPENID_NAME = /openid/i;
/** What a redacted value becomes. */
export const REDACTED = '[redacted]';
/** Values shorter than this are not registered: they would cut ordinary words out of lines. */
const MIN_SECRET_LENGTH = 8;
/** How deep the scrubber walks a logged object; deeper values are dropped rather than risked. */
const MAX_DEPTH = 8;

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Whether `s` is a level name pino knows (LOG_LEVEL's allowed values). */
export function isLogLevel(s: string): s is Level | 'silent' {
  return (LEVELS as readonly string[]).includes(s);
}

const secretsKey = Symbol.for('wechat-checkout.log-secrets');
type SecretsHolder = { [secretsKey]?: Set<string> };

function secrets(): Set<string> {
  const g = globalThis as SecretsHolder;
  return (g[secretsKey] ??= new Set());
}

/** Adds values (the configuration's secrets) that must never appear in a log line, in any field or message. */
export function registerSecrets(values: Array<string | undefined | null>): void {
  for (const v of values) if (v && v.length >= MIN_SECRET_LENGTH) secrets().add(v);
}

/** `o6_bmjrPTlm6_2sgVt7hMZOPfL2M` -> `o6_b…fL2M`: recognisable on the merchant page, useless as an identity. */
export function maskOpenid(openid: string): string {
  return openid.length <= 10 ? '…' : `${openid.slice(0, 4)}…${openid.slice(-4)}`;
}

/** A string with every registered secret value cut out. */
export function scrubText(s: string): string {
  let out = s;
  for (const v of secrets()) if (out.includes(v)) out = out.split(v).join(REDACTED);
  return out;
}

/** A copy of a logged value with secret fields redacted, openids masked and secret values cut out. */
export function scrub(value: unknown, name = '', depth = 0): unknown {
  if (name && SECRET_NAME.test(name)) return value === undefined || value === null ? value : REDACTED;
  if (typeof value === 'string') return name && OPENID_NAME.test(name) ? maskOpenid(value) : scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (value instanceof Error) return scrubError(value, depth);
  if (Array.isArray(value)) return value.map((v) => scrub(v, name, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return scrubText(String(value));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, k, depth + 1);
  return out;
}

/** pino's error shape (type, message, stack, cause, own fields such as `code`) as a plain object, scrubbed. */
function scrubError(e: Error, depth: number): unknown {
  // The serializer's object has pino's own prototype, which scrub() would flatten to a string.
  const { raw: _raw, ...plain } = { ...pino.stdSerializers.err(e) } as Record<string, unknown>;
  return scrub(plain, '', depth + 1);
}

/** Options for createLogger: the level and, for tests, where lines go (default stdout, written synchronously). */
export interface LoggerSetup {
  level?: string;
  destination?: DestinationStream;
  /** Pretty, coloured lines instead of JSON (development only; needs the optional pino-pretty). */
  pretty?: boolean;
  /** Write to stderr instead of stdout (a refusal to start, read by whoever started the process). */
  stderr?: boolean;
}

/** A logger with this app's rules (JSON, ISO time, level names, scrubbing). The app uses `log`; tests build their own. */
export function createLogger(setup: LoggerSetup = {}): Logger {
  const level = setup.level && isLogLevel(setup.level) ? setup.level : 'info';
  const options: LoggerOptions = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    formatters: {
      level: (label) => ({ level: label }),
      log: (obj) => scrub(obj) as Record<string, unknown>,
    },
    // Errors are serialized before the formatter sees them, so their message and stack are scrubbed here.
    serializers: { err: (e: unknown) => (e instanceof Error ? scrubError(e, 0) : scrub(e)) },
    hooks: {
      logMethod(args, method) {
        const clean = args.map((a) => (typeof a === 'string' ? scrubText(a) : a)) as Parameters<typeof method>;
        return method.apply(this, clean);
      },
    },
  };
  // Synchronous writes: a line logged just before process.exit (shutdown, a refused start) is not lost.
  return pino(options, setup.destination ?? (setup.pretty ? prettyStream() : pino.destination({ dest: setup.stderr ? 2 : 1, sync: true })));
}

/** pino-pretty when it is installed (a dev dependency); plain JSON otherwise. */
function prettyStream(): DestinationStream {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pretty = require('pino-pretty') as (o: object) => DestinationStream;
    return pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l' });
  } catch {
    return pino.destination({ dest: 1, sync: true });
  }
}

const loggerKey = Symbol.for('wechat-checkout.logger');
type LoggerHolder = { [loggerKey]?: Logger };

/**
 * The process's logger, built once from LOG_LEVEL (default info) and NODE_ENV (pretty in development).
 * Kept on globalThis because Next bundles route handlers separately: every bundle must write through
 * the same one.
 */
export function getLogger(): Logger {
  const g = globalThis as LoggerHolder;
  return (g[loggerKey] ??= createLogger({ level: process.env.LOG_LEVEL?.trim(), pretty: process.env.NODE_ENV === 'development' }));
}

/** Shorthand for the process's logger; child loggers per component via `log().child({component})`. */
export const log = (): Logger => getLogger();

export type { Logger } from 'pino';

/**
 * Replaces the process's logger (undefined: back to the default on next use). For tests that read what
 * the checkout logged, with a logger from createLogger writing to their own stream.
 */
export function setLogger(logger: Logger | undefined): void {
  const g = globalThis as LoggerHolder;
  if (logger) g[loggerKey] = logger;
  else delete g[loggerKey];
}
