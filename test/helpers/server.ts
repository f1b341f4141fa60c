import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { type Engine, freshDatabaseUrl } from './db';
import { freePort } from './ports';

export interface AppServer {
  baseUrl: string;
  port: number;
  databaseUrl: string;
  logs: () => string;
  stop: () => Promise<void>;
  /** SIGKILL, as a crash or an OOM kill would: no shutdown hooks, no `after()` work; resolves once it has exited. */
  kill: () => Promise<void>;
  /** Sends a signal (SIGTERM: the graceful shutdown) without waiting; see `exited`. */
  signal: (sig: NodeJS.Signals) => void;
  /** Settles when the server process has exited, with its exit code or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const root = path.resolve(__dirname, '../..');

/**
 * Serves the production build (`next start`) on a free port with its own fresh database, in sandbox
 * mode unless `env` says otherwise, and waits for /api/health. SANDBOX_TIME_SCALE defaults to 1000 so
 * notify retries take milliseconds. `databaseUrl` serves an existing database (a second instance, or a
 * restart); `port` a given port (a restart at the address WeChat already knows). `standalone` serves the
 * same build with `node <distDir>/standalone/server.js` instead, as a deployment does (README, "Deploy"),
 * from a working directory outside the repository so nothing but the standalone folder can be used.
 */
export async function startApp(opts: { engine?: Engine; env?: Record<string, string>; databaseUrl?: string; port?: number; standalone?: boolean } = {}): Promise<AppServer> {
  const port = opts.port ?? (await freePort());
  const databaseUrl = opts.databaseUrl ?? (await freshDatabaseUrl(opts.engine ?? 'sqlite'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    NEXT_DIST_DIR: inject('distDir'),
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    SANDBOX_TIME_SCALE: '1000',
    LOG_LEVEL: 'info',
    // The standalone server listens on HOSTNAME (a shell may export the machine's name there).
    HOSTNAME: '::',
    ...opts.env,
  };
  const args = opts.standalone
    ? [path.join(root, inject('distDir'), 'standalone', 'server.js')]
    : [path.join(root, 'node_modules/next/dist/bin/next'), 'start', '-p', String(port)];
  const child = spawn(process.execPath, args, {
    cwd: opts.standalone ? os.tmpdir() : root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const baseUrl = `http://localhost:${port}`;
  await waitHealthy(baseUrl, child, () => out);
  return {
    baseUrl,
    port,
    databaseUrl,
    logs: () => out,
    stop: () => stopChild(child),
    kill: () => killChild(child),
    signal: (sig) => child.kill(sig),
    exited,
  };
}

async function waitHealthy(baseUrl: string, child: ChildProcess, logs: () => string) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}:\n${logs()}`);
    try {
      const r = await fetch(`${baseUrl}/api/health`);
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not become healthy:\n${logs()}`);
}

export function stopChild(child: ChildProcess): Promise<void> {
  // A child killed by a signal has signalCode set and exitCode null: it is gone all the same.
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
