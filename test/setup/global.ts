import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startPostgres } from '../helpers/pg-server';

/**
 * Once per test run: a real PostgreSQL started from Debian's binaries in a temp dir on a loopback
 * port (stopped after), and a production build of the app for the suites that serve it over HTTP.
 * `TEST_BUILD=0` reuses an existing build (quick reruns); `TEST_DIST_DIR` picks the build folder.
 */
export default async function setup(project: TestProject) {
  const distDir = process.env.TEST_DIST_DIR || '.next-test';
  process.env.TEST_DIST_DIR = distDir;
  const root = path.resolve(__dirname, '../..');
  const pg = await startPostgres();
  project.provide('pgUrl', pg.url);
  project.provide('distDir', distDir);
  const build = process.env.TEST_BUILD !== '0' || !existsSync(path.join(root, distDir, 'BUILD_ID'));
  if (build) {
    console.log(`[setup] next build into ${distDir} ...`);
    const r = spawnSync(process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), 'build'], {
      cwd: root,
      env: { ...process.env, NEXT_DIST_DIR: distDir, NEXT_TELEMETRY_DISABLED: '1' },
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      await pg.stop();
      throw new Error(`next build failed:\n${r.stdout}\n${r.stderr}`);
    }
  }
  // The standalone server's static files, as `npm run build` copies them (scripts/standalone-assets.mjs).
  if (build || !existsSync(path.join(root, distDir, 'standalone', distDir, 'static'))) {
    const r = spawnSync(process.execPath, [path.join(root, 'scripts/standalone-assets.mjs')], { cwd: root, env: { ...process.env, NEXT_DIST_DIR: distDir }, encoding: 'utf8' });
    if (r.status !== 0) {
      await pg.stop();
      throw new Error(`standalone assets failed:\n${r.stdout}\n${r.stderr}`);
    }
  }
  return async () => {
    await pg.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    distDir: string;
  }
}
