#!/usr/bin/env node
// The WeChat sandbox on its own (`npm run sandbox`, docs/sandbox.md "The sandbox on its own"): the
// same production build as the checkout, served with SANDBOX_ONLY=1 behind a gate that lets through
// only the sandbox. Any backend (PHP, Java, Python, curl) points its WeChat base URLs here.
//
//   npm run build && PORT=3100 SANDBOX_MERCHANTS_FILE=merchants.json npm run sandbox
//
// Why a gate in front of Next rather than checks in every route: one place decides what is reachable,
// before Next parses anything, so no checkout route (and no route added later) can leak through; the
// checkout's own routes stay unaware of this mode. Requests at WeChat's own paths (/pay/unifiedorder,
// /v3/..., /connect/oauth2/authorize, /sns/oauth2/access_token) are served as the /sandbox/... route
// of the same name, so an SDK only needs its host changed.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.SANDBOX_ONLY = '1';
process.env.NODE_ENV = 'production';
if (process.env.WECHAT_MODE && process.env.WECHAT_MODE !== 'sandbox') {
  console.error('The sandbox on its own runs in sandbox mode only: unset WECHAT_MODE.');
  process.exit(1);
}
const port = Number(process.env.PORT || 3100);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`PORT must be an integer from 1 to 65535, got "${process.env.PORT}"`);
  process.exit(1);
}
process.env.PORT = String(port);
const distDir = process.env.NEXT_DIST_DIR || '.next';
if (!existsSync(path.join(root, distDir, 'BUILD_ID'))) {
  console.error(`No production build in ${distDir}/: run \`npm run build\` first.`);
  process.exit(1);
}

/** WeChat's own paths and the sandbox routes that answer them. */
const ALIASES = [
  [/^\/(pay\/[A-Za-z]+|secapi\/pay\/refund|v3\/.*)$/, '/sandbox/mch/'],
  [/^\/(connect\/oauth2\/.*)$/, '/sandbox/open/'],
  [/^\/(sns\/oauth2\/.*)$/, '/sandbox/api/'],
];

/**
 * Where a request may go: /sandbox and everything under it, the build's static assets (the dashboard's
 * CSS and scripts), WeChat's own paths (aliased), `/` (to the dashboard). Anything else is undefined: 404.
 */
function gate(url) {
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const search = q < 0 ? '' : url.slice(q);
  if (pathname === '/') return { redirect: '/sandbox' };
  if (pathname === '/sandbox' || pathname.startsWith('/sandbox/') || pathname.startsWith('/_next/static/') || pathname === '/favicon.ico') return { url };
  for (const [re, prefix] of ALIASES) {
    const m = re.exec(pathname);
    if (m) return { url: `${prefix}${m[1]}${search}` };
  }
  return undefined;
}

const { default: next } = await import('next');
const app = next({ dev: false, dir: root, port, hostname: 'localhost' });
await app.prepare();
const handle = app.getRequestHandler();

const server = createServer((req, res) => {
  const to = gate(req.url ?? '/');
  if (!to) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end('Not Found: this is the WeChat sandbox on its own; see /sandbox\n');
    return;
  }
  if (to.redirect) {
    res.writeHead(302, { location: to.redirect, 'cache-control': 'no-store' });
    res.end();
    return;
  }
  req.url = to.url;
  handle(req, res).catch((e) => {
    console.error('[sandbox]', e);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
server.listen(port, process.env.HOSTNAME || undefined, () => {
  console.log(`WeChat sandbox on its own: http://localhost:${port}/sandbox (database ${process.env.DATABASE_URL || 'file:./data/sandbox/sandbox.db'})`);
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}
