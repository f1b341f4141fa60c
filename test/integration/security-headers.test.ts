import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppServer, startApp } from '../helpers/server';

/**
 * Security headers over real HTTP on every kind of route: pages, API routes, sandbox routes, WeChat's
 * notify routes, unknown paths. The fixed ones come from next.config.js `headers()`; HSTS comes from
 * proxy.ts and only in live mode, which one build serves as well as sandbox mode.
 */
const FIXED = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'content-security-policy': "frame-ancestors 'none'",
  'x-frame-options': 'DENY',
};

type Probe = { name: string; path: string; init?: RequestInit };
const xml = { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<xml><return_code>SUCCESS</return_code></xml>' };
const PAGES: Probe[] = [
  { name: 'the shop home page', path: '/' },
  { name: 'a shop link page', path: '/shop/green-tea' },
  { name: 'the merchant login page', path: '/merchant/login' },
  { name: 'an API route', path: '/api/health' },
  { name: 'an unknown path (404)', path: '/no/such/page' },
];
const NOTIFIES: Probe[] = [
  { name: 'the payment notify route', path: '/api/wechatpay/notify', init: xml },
  { name: 'the refund notify route', path: '/api/wechatpay/refund-notify', init: xml },
];

function headersOf(r: Response): Record<string, string | null> {
  return Object.fromEntries([...Object.keys(FIXED), 'strict-transport-security'].map((k) => [k, r.headers.get(k)]));
}

describe('security headers in sandbox mode', () => {
  let app: AppServer;
  beforeAll(async () => {
    app = await startApp({ env: { RECONCILE_INTERVAL_MS: '0' } });
  });
  afterAll(async () => app?.stop());

  const probes: Probe[] = [...PAGES, ...NOTIFIES, { name: 'a sandbox page', path: '/sandbox' }, { name: 'a sandbox API route', path: '/sandbox/sim/orders' }];
  it.each(probes)('$name carries the fixed headers and no HSTS', async ({ path, init }) => {
    const r = await fetch(`${app.baseUrl}${path}`, { redirect: 'manual', ...init });
    await r.arrayBuffer();
    expect(headersOf(r)).toEqual({ ...FIXED, 'strict-transport-security': null });
  });
});

describe('security headers in live mode', () => {
  let app: AppServer;
  beforeAll(async () => {
    app = await startApp({
      env: {
        WECHAT_MODE: 'live', PUBLIC_BASE_URL: 'https://shop.example.com', WECHAT_APPID: 'wx0123456789abcdef', WECHAT_APP_SECRET: 'live-secret',
        WECHATPAY_MCH_ID: '1900000109', WECHATPAY_API_KEY: '0123456789abcdef0123456789abcdef', SESSION_SECRET: 'security-headers-test-session-secret-0123',
        MERCHANT_PASSWORD: 'live-merchant-password', RECONCILE_INTERVAL_MS: '0',
      },
    });
  });
  afterAll(async () => app?.stop());

  // The sandbox answers 404 in live mode; its paths still get every header.
  const probes: Probe[] = [...PAGES, { name: 'a sandbox path', path: '/sandbox' }];
  it.each(probes)('$name carries the fixed headers and HSTS', async ({ path, init }) => {
    const r = await fetch(`${app.baseUrl}${path}`, { redirect: 'manual', ...init });
    await r.arrayBuffer();
    expect(headersOf(r)).toEqual({ ...FIXED, 'strict-transport-security': 'max-age=31536000' });
  });

  // Their only client is WeChat's server, which HSTS means nothing to; proxy.ts stays off them so their
  // 64 KB body cap is not preceded by Next buffering the body for the proxy.
  it.each(NOTIFIES)('$name carries the fixed headers (no HSTS: WeChat is not a browser)', async ({ path, init }) => {
    const r = await fetch(`${app.baseUrl}${path}`, { redirect: 'manual', ...init });
    expect(await r.text()).toContain('FAIL');
    expect(headersOf(r)).toEqual({ ...FIXED, 'strict-transport-security': null });
  });
});
