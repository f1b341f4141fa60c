import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';

/** Debian's PostgreSQL binaries (postgresql-NN puts them outside PATH). Throws when not installed. */
function pgBin(name: string): string {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const p = path.join(base, v, 'bin', name);
      if (existsSync(p)) return p;
    }
  }
  throw new Error(`PostgreSQL binary ${name} not found: apt-get install -y postgresql`);
}

/**
 * Starts a throwaway PostgreSQL: initdb in a temp dir, trust auth on 127.0.0.1 only, a free port.
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` user the package created.
 */
export async function startPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxpg-'));
  chmodSync(dir, 0o777);
  const dataDir = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = (bin: string, args: string[]) => {
    const cmd = asRoot ? 'runuser' : bin;
    const full = asRoot ? ['-u', 'postgres', '--', bin, ...args] : args;
    const r = spawnSync(cmd, full, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  };
  run(pgBin('initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  const port = await freePort();
  run(pgBin('pg_ctl'), [
    '-D', dataDir, '-w', '-t', '60', '-l', path.join(dir, 'log'),
    '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off`,
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        run(pgBin('pg_ctl'), ['-D', dataDir, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

