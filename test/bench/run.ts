/**
 * Notify throughput benchmark: valid signed payment notifies (each for a different open attempt, so
 * every one does the full verify + transaction + transition) against the same server's /api/health,
 * measured side by side in one run and printed as a ratio, on SQLite and on PostgreSQL. Shared, noisy
 * machines make absolute numbers meaningless; the ratio says what a notify costs over a trivial route.
 *
 * Needs a build (`npm run build`, or TEST_DIST_DIR for another folder) and, for PostgreSQL, Debian's
 * postgresql. `BENCH_N` (default 400) notifies per engine, `BENCH_CONCURRENCY` (default 16).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { openDb } from '../../lib/db';
import { SANDBOX_API_KEY } from '../../lib/config';
import { freePort } from '../helpers/ports';
import { startPostgres } from '../helpers/pg-server';
import { insertOrder } from '../helpers/orders';
import { signedPaymentNotify } from '../helpers/wechatpay-fixtures';

const root = path.resolve(__dirname, '../..');
const N = Number(process.env.BENCH_N ?? 400);
const CONC = Number(process.env.BENCH_CONCURRENCY ?? 16);
const distDir = process.env.TEST_DIST_DIR ?? (existsSync(path.join(root, '.next-test/BUILD_ID')) ? '.next-test' : '.next');

async function serve(databaseUrl: string): Promise<{ base: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), 'start', '-p', String(port)], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', NEXT_DIST_DIR: distDir, PORT: String(port), DATABASE_URL: databaseUrl, RECONCILE_INTERVAL_MS: '3600000' },
    stdio: 'ignore',
  });
  const base = `http://localhost:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/api/health`)).ok) return { base, child };
    } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('server did not start');
}

/** Runs `jobs` with `CONC` in flight; returns requests per second. */
async function rate(jobs: (() => Promise<void>)[]): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < jobs.length) await jobs[next++]();
  }));
  return jobs.length / ((performance.now() - t0) / 1000);
}

async function benchEngine(name: string, databaseUrl: string) {
  const { base, child } = await serve(databaseUrl);
  const h = openDb(databaseUrl);
  try {
    const bodies: string[] = [];
    for (let i = 0; i < N; i++) {
      const a = await insertOrder(h.db, { amountFen: 1 });
      bodies.push(signedPaymentNotify({ out_trade_no: a.outTradeNo, total_fee: '1' }, { apiKey: SANDBOX_API_KEY }));
    }
    const health = () => async () => {
      const r = await fetch(`${base}/api/health`);
      if (!r.ok) throw new Error(`health ${r.status}`);
      await r.arrayBuffer();
    };
    const notify = (body: string) => async () => {
      const r = await fetch(`${base}/api/wechatpay/notify`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
      const text = await r.text();
      if (!text.includes('SUCCESS')) throw new Error(`notify refused: ${text}`);
    };
    await rate(Array.from({ length: 50 }, health)); // warm both routes
    // Interleave halves so drift on a shared machine hits both sides alike.
    const half = Math.floor(N / 2);
    const h1 = await rate(Array.from({ length: half }, health));
    const n1 = await rate(bodies.slice(0, half).map(notify));
    const h2 = await rate(Array.from({ length: N - half }, health));
    const n2 = await rate(bodies.slice(half).map(notify));
    const healthRps = (h1 + h2) / 2;
    const notifyRps = (n1 + n2) / 2;
    const paid = await h.db.selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'paid').executeTakeFirstOrThrow();
    if (Number(paid.n) !== N) throw new Error(`expected ${N} paid orders, found ${paid.n}`);
    console.log(`${name.padEnd(8)} notify ${notifyRps.toFixed(0)} req/s, health ${healthRps.toFixed(0)} req/s, notify/health ratio ${(notifyRps / healthRps).toFixed(3)} (n=${N}, concurrency ${CONC})`);
  } finally {
    await h.close();
    child.kill('SIGTERM');
  }
}

async function main() {
  if (!existsSync(path.join(root, distDir, 'BUILD_ID'))) throw new Error(`no build in ${distDir}: run npm run build first`);
  const sqliteUrl = `file:${path.join(mkdtempSync(path.join(os.tmpdir(), 'wxbench-')), 'bench.db')}`;
  await benchEngine('sqlite', sqliteUrl);
  const pg = await startPostgres();
  try {
    const c = new Client({ connectionString: pg.url });
    await c.connect();
    await c.query('CREATE DATABASE bench');
    await c.end();
    await benchEngine('postgres', pg.url.replace(/\/postgres$/, '/bench'));
  } finally {
    await pg.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
