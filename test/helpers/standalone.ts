import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { freePort } from './ports';
import { stopChild } from './server';

/** The sandbox on its own, as `npm run sandbox` starts it. */
export interface StandaloneSandbox {
  baseUrl: string;
  port: number;
  databaseUrl: string;
  dataDir: string;
  logs: () => string;
  stop: () => Promise<void>;
}

const root = path.resolve(__dirname, '../..');

/** A fresh data directory with `merchants` written to merchants.json; returns the directory and the file. */
export function merchantsFile(merchants: unknown): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sbx-alone-'));
  const file = path.join(dir, 'merchants.json');
  writeFileSync(file, JSON.stringify(merchants, null, 2));
  return { dir, file };
}

/**
 * Runs scripts/sandbox-server.mjs (what `npm run sandbox` runs) on a free port with its own SQLite
 * file in `dataDir`, and waits until it answers GET /sandbox/sim/merchants. `expectExit` waits for it
 * to refuse to start instead, resolving with its output.
 */
export async function startStandalone(opts: { dataDir: string; env?: Record<string, string> }): Promise<StandaloneSandbox> {
  const port = await freePort();
  const databaseUrl = `file:${path.join(opts.dataDir, 'sandbox.db')}`;
  const child = spawnServer(port, databaseUrl, opts.env);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const baseUrl = `http://localhost:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sandbox exited ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sandbox did not come up:\n${out}`);
    }
    const ok = await fetch(`${baseUrl}/sandbox/sim/merchants`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 150));
  }
  return { baseUrl, port, databaseUrl, dataDir: opts.dataDir, logs: () => out, stop: () => stopChild(child) };
}

/** Starts the server expecting it to refuse (exit non-zero); resolves with its exit code and output. */
export async function standaloneRefusal(opts: { dataDir: string; env?: Record<string, string> }): Promise<{ code: number | null; output: string }> {
  const child = spawnServer(await freePort(), `file:${path.join(opts.dataDir, 'sandbox.db')}`, opts.env);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, output: out };
}

function spawnServer(port: number, databaseUrl: string, env?: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [path.join(root, 'scripts/sandbox-server.mjs')], {
    cwd: root,
    env: {
      ...process.env,
      NEXT_TELEMETRY_DISABLED: '1',
      NEXT_DIST_DIR: inject('distDir'),
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      SANDBOX_TIME_SCALE: '1000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
