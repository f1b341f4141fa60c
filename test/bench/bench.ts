/**
 * The benchmark behind `npm run bench` (test/bench/run.ts) and its smoke test (test/bench/bench.test.ts).
 *
 * For each engine (SQLite, PostgreSQL) it serves an existing production build with `next start`, drives
 * it with autocannon and measures every row against a reference taken in the same run, side by side:
 * the reference and the measured route alternate in short rounds (ABBA: H M, M H, H M, ...), so drift
 * of a shared, noisy machine hits both alike. The ratios are the result; absolute numbers are not.
 *
 * Rows (see docs/bench.md):
 * - notify/applying, notify/duplicate, notify/refused: POST /api/wechatpay/notify vs GET /api/health,
 *   same connection count.
 * - poll: GET /api/orders/[id] by many pollers over pending orders vs /api/health at the same
 *   connection count; the orderqueries that reached the sandbox are counted by a proxy in front of it,
 *   the rate-limit claims by sampling orders.last_query_at.
 * - startPayment: lib/checkout's startPayment run in a second process as another instance of the app,
 *   vs raw unifiedorder calls to the same sandbox from the same process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { type DbHandle, openDb } from '../../lib/db';
import { SANDBOX_API_KEY } from '../../lib/config';
import { insertOrdersBulk } from '../helpers/bulk-orders';
import { placeSandboxAttempt } from '../helpers/orders';
import { freePort } from '../helpers/ports';
import { signedPaymentNotify } from '../helpers/wechatpay-fixtures';
import { type ProxyHit, startCountingProxy } from './counting-proxy';
import { measurePages, PAGE_BUDGET } from './page-budget';
import type { StartPaymentSample } from './start-payment-worker';

export const root = path.resolve(__dirname, '../..');

export type Engine = 'sqlite' | 'postgres';

/** Groups of rows a run may be limited to (BENCH_ROWS): a quick look at one part while working on it. */
export type RowGroup = 'notify' | 'poll' | 'start' | 'page';
const ROW_GROUPS: RowGroup[] = ['notify', 'poll', 'start', 'page'];

export interface BenchSettings {
  engines: Engine[];
  /** Row groups to run; all of them by default. */
  groups: RowGroup[];
  /** Alternating rounds per row (each round: one reference run and one measured run). */
  rounds: number;
  /** Requests per round for each notify row (and for its /api/health reference). */
  notifiesPerRound: number;
  /** autocannon connections for the notify rows. */
  notifyConnections: number;
  /** Polls per round (each poller polls pollsPerRound / pollers times, back to back). */
  pollsPerRound: number;
  /** Concurrent pollers (autocannon connections). */
  pollers: number;
  /** Pending orders the pollers poll, each placed at the sandbox. */
  pollOrders: number;
  /** startPayment calls (and raw unifiedorder calls) per round. */
  startCalls: number;
  /** startPayment calls in flight. */
  startConcurrency: number;
  /** Requests (or calls) per route to warm up before measuring. */
  warmup: number;
  /** Cold, throttled Chromium loads per checkout page in the page budget rows. */
  pageLoads: number;
}

/** `npm run bench`: 8 to 10 minutes on two shared cores. */
export const DEFAULT_SETTINGS: BenchSettings = {
  engines: ['sqlite', 'postgres'],
  groups: ROW_GROUPS,
  rounds: 4,
  notifiesPerRound: 1000,
  notifyConnections: 50,
  pollsPerRound: 1500,
  pollers: 500,
  pollOrders: 100,
  startCalls: 50,
  startConcurrency: 1,
  warmup: 200,
  pageLoads: 5,
};

/** The smoke test in `npm test`: every row on both engines, on a tiny load. */
export const SMOKE_SETTINGS: BenchSettings = {
  engines: ['sqlite', 'postgres'],
  groups: ROW_GROUPS,
  rounds: 1,
  notifiesPerRound: 30,
  notifyConnections: 5,
  pollsPerRound: 40,
  pollers: 10,
  pollOrders: 5,
  startCalls: 3,
  startConcurrency: 1,
  warmup: 10,
  pageLoads: 1,
};

/** DEFAULT_SETTINGS overridden by BENCH_* environment variables (docs/bench.md). */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env, base: BenchSettings = DEFAULT_SETTINGS): BenchSettings {
  const n = (k: string, d: number) => {
    const v = env[k];
    if (v === undefined || v === '') return d;
    const x = Number(v);
    if (!(x > 0)) throw new Error(`${k} must be a positive number, got "${v}"`);
    return x;
  };
  const engines = env.BENCH_ENGINES ? (env.BENCH_ENGINES.split(',').map((s) => s.trim()) as Engine[]) : base.engines;
  for (const e of engines) if (e !== 'sqlite' && e !== 'postgres') throw new Error(`BENCH_ENGINES: unknown engine "${e}"`);
  const groups = env.BENCH_ROWS ? (env.BENCH_ROWS.split(',').map((g) => g.trim()) as RowGroup[]) : base.groups;
  for (const g of groups) if (!ROW_GROUPS.includes(g)) throw new Error(`BENCH_ROWS: unknown row group "${g}" (one of ${ROW_GROUPS.join(', ')})`);
  return {
    engines,
    groups,
    rounds: n('BENCH_ROUNDS', base.rounds),
    notifiesPerRound: n('BENCH_NOTIFIES', base.notifiesPerRound),
    notifyConnections: n('BENCH_CONNECTIONS', base.notifyConnections),
    pollsPerRound: n('BENCH_POLLS', base.pollsPerRound),
    pollers: n('BENCH_POLLERS', base.pollers),
    pollOrders: n('BENCH_POLL_ORDERS', base.pollOrders),
    startCalls: n('BENCH_START_CALLS', base.startCalls),
    startConcurrency: n('BENCH_START_CONCURRENCY', base.startConcurrency),
    warmup: n('BENCH_WARMUP', base.warmup),
    pageLoads: n('BENCH_PAGE_LOADS', base.pageLoads),
  };
}

/** The build to serve: TEST_DIST_DIR / NEXT_DIST_DIR, else .next-test when built, else .next. */
export function defaultDistDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEST_DIST_DIR || env.NEXT_DIST_DIR || (existsSync(path.join(root, '.next-test/BUILD_ID')) ? '.next-test' : '.next');
}

/** Throughput and latency of one side of a row, merged over its rounds. */
export interface Stats {
  /** Answers received (any status). */
  requests: number;
  seconds: number;
  /** Answers per second. */
  rps: number;
  /**
   * Latency percentiles over the answers on open connections. Each connection's first answer of a run
   * is left out (HTTP rows): its time counts the connection's own set-up under a full load, which
   * autocannon starts timing before the socket is accepted (a bare node:http server shows the same
   * 200-700 ms), so it says nothing of the route. It still counts toward req/s.
   */
  p50: number;
  p99: number;
  /** The slowest first answer of a connection (HTTP rows; NaN elsewhere). */
  firstAnswerMax: number;
  /**
   * The served app's CPU time (user + system, all its threads, from /proc) per answer, in ms, over the
   * side's runs (HTTP rows on Linux; NaN elsewhere). Less noisy than req/s on shared cores: what the
   * route costs the server, whatever the load generator and the neighbours took meanwhile.
   */
  cpuMsPerAnswer: number;
  non2xx: number;
  /** Connection errors and timeouts (autocannon), or calls that failed (startPayment row). */
  errors: number;
  timeouts: number;
}

export type RowId = 'notify-applying' | 'notify-duplicate' | 'notify-refused' | 'poll' | 'start-payment' | 'page-shop' | 'page-pay';

export const ROWS: Record<RowId, string> = {
  'notify-applying': 'notify, applying',
  'notify-duplicate': 'notify, duplicate',
  'notify-refused': 'notify, refused (bad sign)',
  poll: 'status poll',
  'start-payment': 'startPayment (in-process)',
  'page-shop': 'page /shop/[sku], pay usable',
  'page-pay': 'page /pay/{id}, pay usable',
};

export interface BenchRow {
  engine: Engine;
  id: RowId;
  label: string;
  /** What the row is measured against: `/api/health` or `unifiedorder` (raw, same process). */
  reference: string;
  /** Connections (HTTP rows) or calls in flight (startPayment). */
  concurrency: number;
  measured: Stats;
  ref: Stats;
  /** measured req/s ÷ reference req/s. */
  rpsRatio: number;
  /** measured p99 ÷ reference p99. */
  p99Ratio: number;
  notes: string;
  /** Row-specific facts: outcome counts, orderquery counts, overheads. */
  extra: Record<string, number | string | null>;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  distDir: string;
  settings: BenchSettings;
  machine: { cpus: number; cpuModel: string; loadavgBefore: number[]; loadavgAfter: number[]; node: string; platform: string };
  rows: BenchRow[];
  table: string;
}

// ---------------------------------------------------------------------------------------------------
// Measuring

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Accumulates rounds of one side of a row. */
class Side {
  latencies: number[] = [];
  firstLatencies: number[] = [];
  requests = 0;
  seconds = 0;
  non2xx = 0;
  errors = 0;
  timeouts = 0;
  /** Server CPU seconds over the runs, or null once a run could not read it. */
  cpuSeconds: number | null = 0;
  stats(): Stats {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      requests: this.requests, seconds: this.seconds, rps: this.requests / this.seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99),
      firstAnswerMax: this.firstLatencies.length ? Math.max(...this.firstLatencies) : Number.NaN, non2xx: this.non2xx, errors: this.errors, timeouts: this.timeouts,
      cpuMsPerAnswer: this.cpuSeconds !== null && this.requests > 0 ? (this.cpuSeconds * 1000) / this.requests : Number.NaN,
    };
  }
}

interface Shot {
  url: string;
  connections: number;
  /** Fixed number of requests (every row uses this), or else `duration` seconds. */
  amount?: number;
  duration?: number;
  request: autocannon.Request;
  /** The served app's pid, whose CPU time the run adds to its side. */
  serverPid?: number;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux builds for every common architecture). */
const USER_HZ = 100;

/** CPU seconds (user + system, every thread) a process has used so far, or null where /proc cannot tell. */
function cpuSecondsOf(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields after the command name, which is in parentheses and may itself hold spaces: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / USER_HZ;
  } catch {
    return null;
  }
}

/**
 * One autocannon run; every answer's latency and status are added to `side`. Its time runs from the
 * start to the last answer (autocannon itself notices the end only at its next sample tick).
 */
/** Returns the run's start and last answer in epoch milliseconds. */
function fire(shot: Shot, side: Side): Promise<{ start: number; end: number }> {
  return new Promise((resolve, reject) => {
    const cpu0 = cpuSecondsOf(shot.serverPid);
    const t0 = performance.now();
    let last = t0;
    let answers = 0;
    const opened = new Set<unknown>();
    const inst = autocannon({
      url: shot.url,
      connections: shot.connections,
      ...(shot.amount !== undefined ? { amount: shot.amount } : { duration: shot.duration }),
      timeout: 20,
      // The end of a run is noticed at a sample tick: tick often so rounds do not idle.
      sampleInt: 50,
      requests: [shot.request],
    }, (err, result) => {
      if (err) return reject(err);
      const end = answers > 0 ? last : performance.now();
      side.seconds += (end - t0) / 1000;
      side.requests += answers;
      side.errors += result.errors - result.timeouts;
      side.timeouts += result.timeouts;
      const cpu1 = cpuSecondsOf(shot.serverPid);
      side.cpuSeconds = side.cpuSeconds === null || cpu0 === null || cpu1 === null ? null : side.cpuSeconds + (cpu1 - cpu0);
      resolve({ start: performance.timeOrigin + t0, end: performance.timeOrigin + end });
    });
    // autocannon's tracker passes the client first; @types/autocannon leaves it out.
    (inst as unknown as NodeJS.EventEmitter).on('response', (client: unknown, status: number, _bytes: number, ms: number) => {
      answers++;
      last = performance.now();
      if (opened.has(client)) side.latencies.push(ms);
      else {
        opened.add(client);
        side.firstLatencies.push(ms);
      }
      if (status < 200 || status > 299) side.non2xx++;
    });
  });
}

/** Alternating rounds, ABBA: reference then measured, then measured then reference, and so on. */
async function alternate(rounds: number, ref: () => Promise<unknown>, measured: () => Promise<unknown>): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      await ref();
      await measured();
    } else {
      await measured();
      await ref();
    }
  }
}

/** The note on what p50/p99 leave out: each connection's first answer, which times its set-up. */
function firstAnswers(m: Stats, ref: Stats): string {
  return `each connection's first answer left out of p50/p99 (set-up under load): slowest ${f0(m.firstAnswerMax)} ms, reference's ${f0(ref.firstAnswerMax)} ms`;
}

/** The note on the server's CPU per answer, both sides (omitted where /proc could not tell). */
function cpuNote(m: Stats, ref: Stats): string[] {
  if (!Number.isFinite(m.cpuMsPerAnswer) || !Number.isFinite(ref.cpuMsPerAnswer)) return [];
  return [`server CPU per answer ${m.cpuMsPerAnswer.toFixed(2)} ms, reference's ${ref.cpuMsPerAnswer.toFixed(2)} ms (${(ref.cpuMsPerAnswer / m.cpuMsPerAnswer).toFixed(2)} of its cost)`];
}

function row(engine: Engine, id: RowId, reference: string, concurrency: number, m: Stats, ref: Stats, notes: string, extra: BenchRow['extra']): BenchRow {
  return { engine, id, label: ROWS[id], reference, concurrency, measured: m, ref, rpsRatio: m.rps / ref.rps, p99Ratio: m.p99 / ref.p99, notes, extra };
}

// ---------------------------------------------------------------------------------------------------
// The served app

interface Served {
  base: string;
  port: number;
  child: ChildProcess;
  logs: () => string;
  stop: () => Promise<void>;
}

/**
 * Extra node flags for the served app and the startPayment worker, from BENCH_NODE_ARGS (e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`: node refuses --cpu-prof in NODE_OPTIONS).
 */
const nodeArgs = () => (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

/** `next start` on the build in `distDir`, with the reconciler off (it would orderquery on its own). */
async function serve(distDir: string, databaseUrl: string, port: number, env: Record<string, string>): Promise<Served> {
  const child = spawn(process.execPath, [...nodeArgs(), path.join(root, 'node_modules/next/dist/bin/next'), 'start', '-p', String(port)], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1',
      NEXT_DIST_DIR: distDir,
      WECHAT_MODE: 'sandbox',
      PORT: String(port),
      PUBLIC_BASE_URL: `http://localhost:${port}`,
      DATABASE_URL: databaseUrl,
      SESSION_SECRET: 'bench-session-secret-'.padEnd(40, 'x'),
      RECONCILE_INTERVAL_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const base = `http://localhost:${port}`;
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`next start exited ${child.exitCode}:\n${out}`);
    try {
      if ((await fetch(`${base}/api/health`)).ok) return { base, port, child, logs: () => out, stop };
    } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 150));
  }
  await stop();
  throw new Error(`next start did not become healthy:\n${out}`);
}

async function freshDatabase(engine: Engine, pgAdminUrl: string | undefined): Promise<string> {
  if (engine === 'sqlite') return `file:${path.join(mkdtempSync(path.join(os.tmpdir(), 'wxbench-')), 'bench.db')}`;
  if (!pgAdminUrl) throw new Error('PostgreSQL row requested without a PostgreSQL server');
  const name = `bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const c = new Client({ connectionString: pgAdminUrl });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(pgAdminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function countEvents(h: DbHandle, source: string, outcome: string): Promise<number> {
  const r = await h.db.selectFrom('payment_events').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('source', '=', source as never).where('outcome', '=', outcome as never).executeTakeFirstOrThrow();
  return Number(r.n);
}

// ---------------------------------------------------------------------------------------------------
// Rows

interface EngineCtx {
  engine: Engine;
  app: Served;
  h: DbHandle;
  s: BenchSettings;
  proxyHits: () => Promise<ProxyHit[]>;
  databaseUrl: string;
  log: (m: string) => void;
}

const health = (base: string, connections: number, amount: number, serverPid?: number): Shot => ({
  url: base, connections, amount, serverPid, request: { method: 'GET', path: '/api/health' },
});

type NotifyKind = 'applying' | 'duplicate' | 'refused';

async function notifyRow(x: EngineCtx, kind: NotifyKind): Promise<BenchRow> {
  const { s, app, h } = x;
  const per = s.notifiesPerRound;
  const conns = Math.min(s.notifyConnections, per);
  let bodies: string[];
  if (kind === 'applying') {
    // autocannon builds each connection's next request ahead of sending it: seed a margin over the total.
    const seeded = await insertOrdersBulk(h.db, per * s.rounds + conns * (s.rounds + 2) + 10, { amountFen: 1 });
    // Each payment from its own buyer (openid), as in a shop: the openid lands in the order's indexes.
    bodies = seeded.map((a) => signedPaymentNotify({ out_trade_no: a.outTradeNo, total_fee: '1', openid: `o${randomBytes(20).toString('base64url')}` }, { apiKey: SANDBOX_API_KEY }));
  } else {
    const [a] = await insertOrdersBulk(h.db, 1, { amountFen: 1 });
    const valid = signedPaymentNotify({ out_trade_no: a.outTradeNo, total_fee: '1' }, { apiKey: SANDBOX_API_KEY });
    if (kind === 'duplicate') {
      // Paid once before the row: every request of the row is a repeat.
      const r = await fetch(`${app.base}/api/wechatpay/notify`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: valid });
      const t = await r.text();
      if (!t.includes('SUCCESS')) throw new Error(`the first notify of the duplicate row was refused: ${t}`);
      bodies = [valid];
    } else {
      // The same notify signed with another key: refused at the signature check.
      bodies = [signedPaymentNotify({ out_trade_no: a.outTradeNo, total_fee: '1' }, { apiKey: 'f'.repeat(32) })];
    }
  }
  let next = 0;
  let success = 0;
  let fail = 0;
  const before = {
    applied: await countEvents(h, 'notify', 'applied'),
    duplicate: await countEvents(h, 'notify', 'duplicate'),
    rejected: await countEvents(h, 'notify', 'rejected'),
  };
  const notifyShot: Shot = {
    url: app.base, connections: conns, amount: per, serverPid: app.child.pid,
    request: {
      method: 'POST', path: '/api/wechatpay/notify', headers: { 'content-type': 'text/xml' },
      setupRequest: (req) => ({ ...req, body: bodies[kind === 'applying' ? next++ : 0] ?? bodies[bodies.length - 1] }),
      onResponse: (_status, body) => {
        if (body.includes('<return_code><![CDATA[SUCCESS]]>') || body.includes('<return_code>SUCCESS<')) success++;
        else fail++;
      },
    },
  };
  const hs = new Side();
  const ns = new Side();
  await alternate(s.rounds, () => fire(health(app.base, conns, per, app.child.pid), hs), () => fire(notifyShot, ns));
  const after = {
    applied: (await countEvents(h, 'notify', 'applied')) - before.applied,
    duplicate: (await countEvents(h, 'notify', 'duplicate')) - before.duplicate,
    rejected: (await countEvents(h, 'notify', 'rejected')) - before.rejected,
  };
  const m = ns.stats();
  const expected = kind === 'refused' ? 'FAIL' : 'SUCCESS';
  const wrong = kind === 'refused' ? success : fail;
  const rowsOf = kind === 'applying' ? after.applied : kind === 'duplicate' ? after.duplicate : after.rejected;
  const notes = [
    `${wrong === 0 ? 'all' : `${m.requests - wrong}/${m.requests}`} answered ${expected}`,
    `${rowsOf} ${kind === 'applying' ? 'applied' : kind === 'duplicate' ? 'duplicate' : 'rejected'} event rows`,
    ...(m.non2xx || m.errors || m.timeouts ? [`non-2xx ${m.non2xx}, errors ${m.errors}, timeouts ${m.timeouts}`] : []),
    ...cpuNote(m, hs.stats()),
    firstAnswers(m, hs.stats()),
  ].join('; ');
  const id: RowId = `notify-${kind}`;
  return row(x.engine, id, '/api/health', conns, m, hs.stats(), notes, {
    answeredSuccess: success, answeredFail: fail, eventsApplied: after.applied, eventsDuplicate: after.duplicate, eventsRejected: after.rejected,
    bodiesUsed: kind === 'applying' ? next : null,
  });
}

/**
 * Per-order events (epoch ms) counted in 3 s windows laid from the start of each polling round (a
 * round's last window may be shorter): the mean per order and window, the most one order had in one
 * window, and the smallest gap between two events of one order.
 */
function windowStats(timesByOrder: Map<string, number[]>, orders: number, pollRounds: { start: number; end: number }[]) {
  const WINDOW = 3000;
  const windows: [number, number][] = [];
  for (const r of pollRounds) for (let t = r.start; t < r.end; t += WINDOW) windows.push([t, Math.min(t + WINDOW, r.end)]);
  let max = 0;
  let minGapMs = Number.POSITIVE_INFINITY;
  let inside = 0;
  let outside = 0;
  for (const list of timesByOrder.values()) {
    list.sort((a, b) => a - b);
    for (let i = 1; i < list.length; i++) minGapMs = Math.min(minGapMs, list[i] - list[i - 1]);
    for (const [a, b] of windows) max = Math.max(max, list.filter((t) => t >= a && t < b).length);
    for (const t of list) if (windows.some(([a, b]) => t >= a && t < b)) inside++; else outside++;
  }
  return {
    windows: windows.length,
    mean: windows.length ? inside / orders / windows.length : Number.NaN,
    max,
    minGapSeconds: Number.isFinite(minGapMs) ? minGapMs / 1000 : null,
    inside,
    outside,
  };
}

/**
 * The orderquery calls that reached the sandbox for the polled orders, as the counting proxy saw them.
 * The WeChat Pay client resends the very same body (same nonce_str) when it retries after a timeout, a
 * 5xx or SYSTEMERROR, so calls whose nonce came before are retries.
 */
function orderqueryCalls(hits: ProxyHit[], outTradeNos: Set<string>) {
  const mine = hits.filter((h) => h.api === 'orderquery' && h.outTradeNo && outTradeNos.has(h.outTradeNo));
  const byOrder = new Map<string, number[]>();
  const perNonce = new Map<string, number>();
  const statuses: Record<string, number> = {};
  for (const h of mine) {
    byOrder.set(h.outTradeNo!, [...(byOrder.get(h.outTradeNo!) ?? []), h.at]);
    const key = `${h.outTradeNo} ${h.nonce}`;
    perNonce.set(key, (perNonce.get(key) ?? 0) + 1);
    statuses[String(h.status)] = (statuses[String(h.status)] ?? 0) + 1;
  }
  const callMs = mine.map((h) => h.ms).filter((v): v is number => v !== null).sort((a, b) => a - b);
  // For the JSON report: what the tries of retried calls got.
  const retried = mine.filter((h) => (perNonce.get(`${h.outTradeNo} ${h.nonce}`) ?? 0) > 1).slice(0, 20)
    .map((h) => `${h.outTradeNo} at +${(h.at - mine[0].at).toFixed(0)} ms: status ${h.status}, ${h.ms === null ? 'unanswered' : `${h.ms.toFixed(0)} ms`}${h.clientGone ? ', caller gone' : ''}`);
  return {
    byOrder,
    calls: mine.length,
    retries: mine.length - perNonce.size,
    callerGone: mine.filter((h) => h.clientGone).length,
    callP50: percentile(callMs, 50),
    callMax: callMs.length ? callMs[callMs.length - 1] : Number.NaN,
    statuses,
    retried,
  };
}

/**
 * Samples orders.last_query_at of the polled orders every `everyMs` until stopped: every value it takes
 * is one claim of confirmPendingOrder (the app's rate limit), at the server's own clock. A value lasts at
 * least 3 s, so sampling well under that sees every claim; the largest interval actually achieved is
 * returned with the claims.
 */
function sampleClaims(h: DbHandle, orderIds: string[], everyMs: number) {
  const seen = new Map<string, Set<string>>(orderIds.map((id) => [id, new Set()]));
  let stop = false;
  let maxIntervalMs = 0;
  const loop = (async () => {
    let last = performance.now();
    while (!stop) {
      const rows = await h.db.selectFrom('orders').select(['id', 'last_query_at']).where('id', 'in', orderIds).execute();
      for (const r of rows) if (r.last_query_at) seen.get(r.id)!.add(r.last_query_at);
      const now = performance.now();
      maxIntervalMs = Math.max(maxIntervalMs, now - last);
      last = now;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return async () => {
    stop = true;
    await loop;
    const byOrder = new Map<string, number[]>([...seen].map(([id, set]) => [id, [...set].map((iso) => Date.parse(iso))]));
    return { byOrder, claims: [...seen.values()].reduce((n, set) => n + set.size, 0), maxIntervalMs };
  };
}

async function pollRow(x: EngineCtx): Promise<BenchRow> {
  const { s, app, h } = x;
  // Orders whose attempts WeChat (the sandbox) knows, so an orderquery answers NOTPAY and they stay pending.
  const placed: { orderId: string; outTradeNo: string }[] = [];
  for (let i = 0; i < s.pollOrders; i += 10) {
    const n = Math.min(10, s.pollOrders - i);
    placed.push(...(await Promise.all(Array.from({ length: n }, () => placeSandboxAttempt({ baseUrl: app.base, port: app.port }, h.db, { amountFen: 1 })))));
  }
  const login = await fetch(`${app.base}/api/merchant/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'sandbox' }) });
  if (!login.ok) throw new Error(`merchant login answered ${login.status}: ${await login.text()}`);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const paths = placed.map((p) => `/api/orders/${p.orderId}`);
  let next = 0;
  const pollShot: Shot = {
    url: app.base, connections: Math.min(s.pollers, s.pollsPerRound), amount: s.pollsPerRound, serverPid: app.child.pid,
    request: { method: 'GET', path: paths[0], headers: { cookie }, setupRequest: (req) => ({ ...req, path: paths[next++ % paths.length] }) },
  };
  const hs = new Side();
  const ps = new Side();
  const pollRounds: { start: number; end: number }[] = [];
  const conns = Math.min(s.pollers, s.pollsPerRound);
  // Fixed counts, not durations: a round ends when every poll (and the orderquery inside it) is answered,
  // so no backlog spills into the next round.
  const stopSampling = sampleClaims(h, placed.map((p) => p.orderId), 250);
  await alternate(s.rounds, () => fire(health(app.base, conns, s.pollsPerRound, app.child.pid), hs), async () => pollRounds.push(await fire(pollShot, ps)));
  const claims = await stopSampling();
  const calls = orderqueryCalls(await x.proxyHits(), new Set(placed.map((p) => p.outTradeNo)));
  const cw = windowStats(claims.byOrder, s.pollOrders, pollRounds);
  const qw = windowStats(calls.byOrder, s.pollOrders, pollRounds);
  const stillPending = await h.db.selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('id', 'in', placed.map((p) => p.orderId)).where('status', '=', 'pending').executeTakeFirstOrThrow();
  const m = ps.stats();
  const gap = (g: number | null) => (g === null ? 'n/a' : `${g.toFixed(2)} s`);
  const notes = [
    `${conns} pollers on ${s.pollOrders} orders; non-2xx ${m.non2xx}${m.errors || m.timeouts ? `, errors ${m.errors}, timeouts ${m.timeouts}` : ''}`,
    `orderquery calls at the sandbox per order per 3 s window: ${f2(qw.mean)} mean, ${qw.max} max (${qw.windows} windows${calls.retries ? `; ${calls.retries} of ${calls.calls} calls were client retries` : ''}${calls.callerGone ? `, ${calls.callerGone} given up by the app` : ''}${qw.outside ? `, ${qw.outside} outside the polling rounds` : ''})`,
    `claims (the 3 s rule): ${f2(cw.mean)} mean, ${cw.max} max, min gap ${gap(cw.minGapSeconds)}${claims.maxIntervalMs > 2500 ? ` (sampled only every ${(claims.maxIntervalMs / 1000).toFixed(1)} s at worst: some claims may be missed)` : ''}`,
    // The sandbox is the same server: its answers to the polls' orderqueries are in the polls' CPU.
    ...cpuNote(m, hs.stats()),
    firstAnswers(m, hs.stats()),
  ].join('; ');
  return row(x.engine, 'poll', '/api/health', s.pollers, m, hs.stats(), notes, {
    windows: qw.windows, orderqueryCalls: calls.calls, orderqueryRetries: calls.retries, orderqueryCallsGivenUp: calls.callerGone,
    orderqueryCallsPerOrderPerWindow: qw.mean, maxOrderqueryCallsInOneWindow: qw.max, orderqueryCallsOutsidePolling: qw.outside,
    orderqueryMinGapSecondsAtSandbox: qw.minGapSeconds, orderqueryCallP50Ms: calls.callP50, orderqueryCallMaxMs: calls.callMax,
    orderqueryStatuses: JSON.stringify(calls.statuses), orderqueryRetriedCalls: calls.retried.join('; ') || null,
    claims: claims.claims, claimsPerOrderPerWindow: cw.mean, maxClaimsInOneWindow: cw.max, claimMinGapSeconds: cw.minGapSeconds,
    claimsOutsidePolling: cw.outside, claimSamplingMaxIntervalMs: claims.maxIntervalMs, stillPending: Number(stillPending.n),
  });
}

async function startPaymentRow(x: EngineCtx): Promise<BenchRow> {
  const { s, app } = x;
  const worker = path.join(__dirname, 'start-payment-worker.ts');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    WECHAT_MODE: 'sandbox',
    DATABASE_URL: x.databaseUrl,
    PUBLIC_BASE_URL: app.base,
    PORT: String(app.port),
    SESSION_SECRET: 'bench-session-secret-'.padEnd(40, 'x'),
    // Straight to the sandbox, not through the counting proxy: both kinds of call take the same path.
    SANDBOX_MCH_BASE_URL: `${app.base}/sandbox/mch`,
    RECONCILE_INTERVAL_MS: '0',
    BENCH_START_ROUNDS: String(s.rounds),
    BENCH_START_CALLS: String(s.startCalls),
    BENCH_START_CONCURRENCY: String(s.startConcurrency),
    BENCH_START_WARMUP: String(Math.max(2, Math.min(10, s.warmup))),
  };
  const sample = await new Promise<StartPaymentSample>((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs(), '--import', 'tsx', worker], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err = (err + d).slice(-20_000)));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`start-payment worker exited ${code}:\n${err}\n${out.slice(-2000)}`));
      try {
        resolve(JSON.parse(line) as StartPaymentSample);
      } catch {
        reject(new Error(`start-payment worker printed no result:\n${out.slice(-2000)}\n${err}`));
      }
    });
  });
  const side = (times: number[], seconds: number, failures: number): Stats => {
    const sorted = [...times].sort((a, b) => a - b);
    return { requests: times.length, seconds, rps: times.length / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), firstAnswerMax: Number.NaN, non2xx: 0, errors: failures, timeouts: 0, cpuMsPerAnswer: Number.NaN };
  };
  const m = side(sample.startPayment, sample.startSeconds, sample.startFailures);
  const ref = side(sample.unifiedorder, sample.unifiedSeconds, sample.unifiedFailures);
  const over50 = m.p50 - ref.p50;
  const over99 = m.p99 - ref.p99;
  const notes = [
    `overhead p50 ${over50 >= 0 ? '+' : ''}${over50.toFixed(1)} ms, p99 ${over99 >= 0 ? '+' : ''}${over99.toFixed(1)} ms`,
    `NATIVE, new order each call, QR SVG included; ${s.startConcurrency} in flight`,
    ...(sample.startFailures || sample.unifiedFailures ? [`failures: startPayment ${sample.startFailures}, unifiedorder ${sample.unifiedFailures} (${sample.firstError})`] : []),
  ].join('; ');
  return row(x.engine, 'start-payment', 'unifiedorder', s.startConcurrency, m, ref, notes, {
    overheadP50Ms: over50, overheadP99Ms: over99, startFailures: sample.startFailures, unifiedFailures: sample.unifiedFailures, firstError: sample.firstError,
  });
}

/**
 * The page budget rows (./page-budget.ts): the time until the pay button is usable on a shop link and a
 * session's pay page, cold and throttled, against the home page's first paint; the notes hold the
 * budget checks (usable within 2.0 s; JavaScript at most 1.1x the lightest page of the build).
 */
async function pageRows(x: EngineCtx): Promise<BenchRow[]> {
  const { app, s } = x;
  const login = await fetch(`${app.base}/api/merchant/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'sandbox' }) });
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const key = ((await (await fetch(`${app.base}/api/merchant/api-keys`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench' }) })).json()) as { key: string }).key;
  const created = await fetch(`${app.base}/api/v1/checkout/sessions`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ amount_fen: 2990, description: '演唱会门票 A 区', merchant_reference: `BENCH-${Date.now()}` }),
  });
  if (created.status !== 201) throw new Error(`session create answered ${created.status}: ${await created.text()}`);
  const session = (await created.json()) as { id: string };
  const r = await measurePages({
    base: app.base, shopPath: '/shop/green-tea', payPath: `/pay/${session.id}`,
    otherPaths: ['/', '/merchant/login', `/orders/${session.id}`],
  }, s.pageLoads);
  const timed = (times: number[]): Stats => {
    const sorted = [...times].sort((a, b) => a - b);
    return { requests: times.length, seconds: Number.NaN, rps: Number.NaN, p50: percentile(sorted, 50), p99: percentile(sorted, 99), firstAnswerMax: Number.NaN, non2xx: 0, errors: 0, timeouts: 0, cpuMsPerAnswer: Number.NaN };
  };
  const ref = timed(r.home.map((l) => l.usable));
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  return (['page-shop', 'page-pay'] as const).map((id) => {
    const p = id === 'page-shop' ? r.shop : r.pay;
    const m = timed(p.loads.map((l) => l.usable));
    const hydrated = timed(p.loads.map((l) => l.hydrated ?? Number.NaN));
    const jsRatio = p.js.beforeHydration / r.lightest.js.beforeHydration;
    const notes = [
      `usable p50 ${f0(m.p50)} ms, worst ${f0(m.p99)} ms (budget ${PAGE_BUDGET.usableMs} ms: ${m.p99 <= PAGE_BUDGET.usableMs ? 'met' : 'NOT met'}); hydrated p50 ${f0(hydrated.p50)} ms`,
      `JS until hydrated ${kb(p.js.beforeHydration)} = ${f2(jsRatio)}x the lightest page (${r.lightest.path}, ${kb(r.lightest.js.beforeHydration)}; budget ${PAGE_BUDGET.jsRatio}x: ${jsRatio <= PAGE_BUDGET.jsRatio ? 'met' : 'NOT met'}), ${kb(p.js.total - p.js.beforeHydration)} more fetched in idle time after`,
      `${p.loads.length} cold loads, WeChat phone, Lighthouse mobile throttling (562.5 ms RTT, 1.6 Mbit/s, 4x CPU); reference: the home page's first paint`,
    ].join('; ');
    return row(x.engine, id, '/ first paint', 1, m, ref, notes, {
      usableP50Ms: m.p50, usableWorstMs: m.p99, hydratedP50Ms: hydrated.p50, jsBytesBeforeHydration: p.js.beforeHydration, jsBytesTotal: p.js.total, jsRatio,
      lightestPath: r.lightest.path, lightestJsBytes: r.lightest.js.beforeHydration, jsBytesByPath: JSON.stringify(r.jsByPath),
      usableBudgetMs: PAGE_BUDGET.usableMs, jsRatioBudget: PAGE_BUDGET.jsRatio,
    });
  });
}

async function benchEngine(engine: Engine, distDir: string, s: BenchSettings, pgAdminUrl: string | undefined, log: (m: string) => void): Promise<BenchRow[]> {
  const databaseUrl = await freshDatabase(engine, pgAdminUrl);
  const port = await freePort();
  const proxy = await startCountingProxy(`http://127.0.0.1:${port}/sandbox/mch`);
  let app: Served | undefined;
  let h: DbHandle | undefined;
  try {
    log(`[bench] ${engine}: next start (${distDir})`);
    app = await serve(distDir, databaseUrl, port, { SANDBOX_MCH_BASE_URL: proxy.url });
    h = openDb(databaseUrl);
    const x: EngineCtx = { engine, app, h, s, proxyHits: proxy.hits, databaseUrl, log };

    // Warm every route the rows use (Next loads a route's bundle on its first request).
    const warm = new Side();
    const [w] = await insertOrdersBulk(h.db, 1);
    const bad = signedPaymentNotify({ out_trade_no: w.outTradeNo, total_fee: '1' }, { apiKey: 'f'.repeat(32) });
    const wconns = Math.min(10, s.warmup);
    await fire(health(app.base, wconns, s.warmup), warm);
    await fire({ url: app.base, connections: wconns, amount: s.warmup, request: { method: 'POST', path: '/api/wechatpay/notify', headers: { 'content-type': 'text/xml' }, body: bad } }, warm);
    await fire({ url: app.base, connections: wconns, amount: s.warmup, request: { method: 'GET', path: `/api/orders/${w.orderId}` } }, warm);

    const rows: BenchRow[] = [];
    const want = (g: RowGroup) => s.groups.includes(g);
    for (const kind of want('notify') ? (['applying', 'duplicate', 'refused'] as const) : []) {
      log(`[bench] ${engine}: notify ${kind}`);
      rows.push(await notifyRow(x, kind));
    }
    if (want('poll')) {
      log(`[bench] ${engine}: status poll`);
      rows.push(await pollRow(x));
    }
    if (want('start')) {
      log(`[bench] ${engine}: startPayment`);
      rows.push(await startPaymentRow(x));
    }
    if (want('page')) {
      log(`[bench] ${engine}: page budget (Chromium, mobile throttling)`);
      rows.push(...(await pageRows(x)));
    }
    return rows;
  } catch (e) {
    if (app) (e as Error).message += `\n--- next start output (tail) ---\n${app.logs().slice(-4000)}`;
    throw e;
  } finally {
    await h?.close();
    await app?.stop();
    await proxy.close();
    if (engine === 'postgres' && pgAdminUrl) {
      // Leave the server as found: drop the bench database.
      const c = new Client({ connectionString: pgAdminUrl });
      await c.connect().then(() => c.query(`DROP DATABASE IF EXISTS ${new URL(databaseUrl).pathname.slice(1)} WITH (FORCE)`)).catch(() => {}).finally(() => c.end().catch(() => {}));
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Output

const f0 = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : 'n/a');
const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

/** THE table: one row per engine and measure, every number beside its reference and the ratio. */
export function markdownTable(rows: BenchRow[]): string {
  const head = ['engine', 'row', 'conc.', 'req/s', 'p50 ms', 'p99 ms', 'reference', 'ref req/s', 'ref p50 ms', 'ref p99 ms', 'req/s ÷ ref', 'p99 ÷ ref', 'notes'];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((hd) => (hd === 'engine' || hd === 'row' || hd === 'reference' || hd === 'notes' ? '---' : '---:')).join('|')}|`,
  ];
  for (const r of rows) {
    lines.push(`| ${[
      r.engine, r.label, String(r.concurrency), f0(r.measured.rps), f1(r.measured.p50), f1(r.measured.p99), r.reference,
      f0(r.ref.rps), f1(r.ref.p50), f1(r.ref.p99), f2(r.rpsRatio), f2(r.p99Ratio), r.notes,
    ].join(' | ')} |`);
  }
  return lines.join('\n');
}

export interface RunOptions {
  distDir: string;
  settings: BenchSettings;
  /** An admin URL of a running PostgreSQL (a database is created for the run and dropped after). */
  pgAdminUrl?: string;
  /** Where to write the JSON report. */
  outFile?: string;
  log?: (m: string) => void;
}

/** Runs every row on every engine of `settings`, writes the JSON report and returns it. */
export async function runBench(o: RunOptions): Promise<BenchReport> {
  const log = o.log ?? ((m: string) => console.error(m));
  if (!existsSync(path.join(root, o.distDir, 'BUILD_ID'))) throw new Error(`no build in ${o.distDir}: run \`NEXT_DIST_DIR=${o.distDir} npx next build\` first`);
  const startedAt = new Date().toISOString();
  const loadavgBefore = os.loadavg();
  const rows: BenchRow[] = [];
  for (const engine of o.settings.engines) rows.push(...(await benchEngine(engine, o.distDir, o.settings, o.pgAdminUrl, log)));
  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    distDir: o.distDir,
    settings: o.settings,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', loadavgBefore, loadavgAfter: os.loadavg(), node: process.version, platform: `${os.platform()} ${os.release()}` },
    rows,
    table: markdownTable(rows),
  };
  if (o.outFile) {
    mkdirSync(path.dirname(o.outFile), { recursive: true });
    writeFileSync(o.outFile, `${JSON.stringify(report, null, 2)}\n`);
  }
  return report;
}
