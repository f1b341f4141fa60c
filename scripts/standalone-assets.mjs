#!/usr/bin/env node
/**
 * After `next build`: copies what the standalone server does not trace into its folder, as Next's
 * standalone docs ask (https://nextjs.org/docs/app/api-reference/config/next-config-js/output):
 * `<distDir>/static` into `<distDir>/standalone/<distDir>/static` (the client bundles and CSS) and
 * `public/` into `<distDir>/standalone/public` when there is one. Idempotent: a rebuild replaces them.
 * Reads the dist folder from NEXT_DIST_DIR like next.config.js (default .next).
 */
import { cpSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = process.cwd();
const distDir = process.env.NEXT_DIST_DIR || '.next';
const standalone = path.join(root, distDir, 'standalone');
if (!existsSync(path.join(standalone, 'server.js'))) {
  console.error(`${standalone}/server.js not found: run next build first (with output: 'standalone')`);
  process.exit(1);
}
const copies = [[path.join(root, distDir, 'static'), path.join(standalone, distDir, 'static')]];
if (existsSync(path.join(root, 'public'))) copies.push([path.join(root, 'public'), path.join(standalone, 'public')]);
for (const [from, to] of copies) {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
  console.log(`copied ${path.relative(root, from)} -> ${path.relative(root, to)}`);
}
