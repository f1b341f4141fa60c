/**
 * Security headers every response carries, whatever the mode (docs/http-api.md, "Security headers").
 * Fixed at build time, which is fine: none of them depends on the configuration. HSTS does (live mode
 * only), so proxy.ts adds it per request from the runtime environment.
 *
 * - nosniff: a notify reply, a CSV export or a QR PNG is never re-read by a browser as HTML or script.
 * - Referrer-Policy strict-origin-when-cross-origin: other sites (open.weixin.qq.com during OAuth, or any
 *   link a merchant follows) see our origin only, never an order id or an OAuth code in a path or query.
 *   Nothing here needs a full cross-origin Referer: WeChat OAuth checks redirect_uri against the
 *   registered domain and JSAPI checks the page URL against the payment directory, neither reads Referer
 *   (only H5/MWEB pay does, which this app does not use). Same-origin requests keep the full URL.
 * - frame-ancestors 'none' (and X-Frame-Options DENY for browsers without CSP 2): no other site may frame
 *   the shop, the order pages or the merchant pages (clickjacking a Pay or Refund button). No page of
 *   this app frames another one.
 */
const SECURITY_HEADERS = [
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
  { key: 'Content-Security-Policy', value: "frame-ancestors 'none'" },
  { key: 'X-Frame-Options', value: 'DENY' },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  // Tests build into their own folder so a developer's `next dev` and a test build never collide.
  distDir: process.env.NEXT_DIST_DIR || '.next',
  poweredByHeader: false,
  reactStrictMode: true,
  // `node <distDir>/standalone/server.js` runs with only the files the server traced (README, "Deploy");
  // `next start` still serves the same build. scripts/standalone-assets.mjs copies the static files in.
  output: 'standalone',
  // Loaded by Node from node_modules, not bundled: native code (better-sqlite3), and modules whose
  // state must be one per process (prom-client's registry, pino's streams) however many bundles use them.
  serverExternalPackages: ['better-sqlite3', 'pg', 'prom-client', 'pino'],
  experimental: {
    // The stylesheet (a few KB) goes inline in <head>: on a phone network (Lighthouse's mobile
    // throttling: 562.5 ms per round trip) a separate render-blocking request costs the first paint,
    // and with it the pay button, a whole round trip (docs/bench.md, page rows).
    inlineCss: true,
  },
  async headers() {
    return [{ source: '/:path*', headers: SECURITY_HEADERS }];
  },
};

module.exports = nextConfig;
