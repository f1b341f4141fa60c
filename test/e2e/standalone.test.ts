import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '@/lib/checkout/webhooks';
import { type DbHandle, openDb } from '@/lib/db';
import { desktopContext, launchBrowser, screenshotPath, wechatContext } from '../helpers/browser';
import { jsonLines, type LogLine } from '../helpers/log-capture';
import { waitFor } from '../helpers/orders';
import { scrape } from '../helpers/prom';
import { type AppServer, startApp } from '../helpers/server';
import { type Receiver, startReceiver } from '../helpers/webhook-receiver';

/**
 * The deployable build: `node <distDir>/standalone/server.js`, run from outside the repository, serves
 * the buyer flows in Chromium (JSAPI inside WeChat through the sandbox's OAuth and payment sheet, and the
 * desktop QR), the merchant's login and refund, and a signed webhook delivery. The same run is the
 * "full run" the log is judged on: every line of ours is JSON with the fields, and none of the secrets
 * (WeChat API key, SESSION_SECRET, MERCHANT_PASSWORD, METRICS_TOKEN, an sk_test_ API key, the webhook secret, the session
 * cookie, the buyer's full openid) appears anywhere in the server's output, at LOG_LEVEL=trace.
 */
const SECRETS = {
  MERCHANT_PASSWORD: 'Merchant-Pw-7f3a9c1e5b',
  SESSION_SECRET: 'session-secret-3b8e0f6d2a4c9e1f7b5d3a0c8e6f4b2d',
  WECHATPAY_API_KEY: 'Qk7LmN2pR4sT6vX8zA1cE3gI5kM7oQ9s',
  METRICS_TOKEN: 'metrics-token-5e2c8a4f1d7b9e3c',
};

interface SimOrder { out_trade_no: string; trade_type: string; code_url: string | null; prepay_id: string | null }

async function simOrders(app: AppServer): Promise<SimOrder[]> {
  return ((await (await fetch(`${app.baseUrl}/sandbox/sim/orders`)).json()) as { orders: SimOrder[] }).orders;
}

async function openShop(page: Page, app: AppServer, sku: string) {
  await page.goto(`${app.baseUrl}/shop/${sku}`, { waitUntil: 'domcontentloaded' });
  await page.waitForURL((u) => u.origin + u.pathname === `${app.baseUrl}/shop/${sku}`, { waitUntil: 'domcontentloaded' });
  await page.locator('[data-testid="pay-panel"][data-ready="1"]').waitFor();
}

describe('the standalone server (output: standalone)', () => {
  let app: AppServer;
  let browser: Browser;
  let h: DbHandle;
  let rx: Receiver;
  const cookies: string[] = [];
  const openids: string[] = [];
  let webhookSecret = '';
  let apiKey = '';
  beforeAll(async () => {
    [app, browser, rx] = await Promise.all([
      startApp({ standalone: true, env: { ...SECRETS, LOG_LEVEL: 'trace', RECONCILE_INTERVAL_MS: '0', WEBHOOK_POLL_MS: '50' } }),
      launchBrowser(),
      startReceiver(),
    ]);
    h = openDb(app.databaseUrl);
  });
  afterAll(async () => {
    await h?.close();
    await browser?.close();
    await rx?.close();
    await app?.stop();
  });

  it('serves the static bundles it was given (the client runs: the pay panel hydrates)', async () => {
    const html = await (await fetch(`${app.baseUrl}/`)).text();
    const script = /<script src="([^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeTruthy();
    expect((await fetch(`${app.baseUrl}${script}`)).status).toBe(200);
    const ready = await fetch(`${app.baseUrl}/api/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ok: true, db: { ok: true, kind: 'sqlite' }, migrations: { ok: true, pending: [], unknown: [] } });
  });

  it('a WeChat buyer pays with JSAPI: OAuth, payment sheet, order page paid', async () => {
    const ctx = await wechatContext(browser);
    const page = await ctx.newPage();
    await openShop(page, app, 'green-tea');
    await page.getByTestId('pay-button').click();
    await page.getByTestId('sandbox-sheet-pay').waitFor({ timeout: 15_000 });
    await page.getByTestId('sandbox-sheet-pay').click();
    await page.waitForURL(/\/orders\/cs_[A-Za-z0-9_-]+/, { timeout: 15_000 });
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('paid');
    await page.screenshot({ path: screenshotPath('standalone-wechat-paid'), fullPage: true });
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const order = await h.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(order.buyer_openid).toMatch(/^o[A-Za-z0-9_-]{27}$/);
    openids.push(order.buyer_openid!);
    for (const c of await ctx.cookies()) cookies.push(c.value);
    await ctx.close();
  });

  it('a desktop buyer pays the Native QR and the page flips to paid by itself', async () => {
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await openShop(page, app, 'coffee-beans');
    await page.getByTestId('pay-button').click();
    await page.getByTestId('pay-qr').waitFor();
    const sim = (await simOrders(app)).find((o) => o.trade_type === 'NATIVE')!;
    const pay = await fetch(`${app.baseUrl}/sandbox/sim/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code_url: sim.code_url }) });
    expect(pay.status).toBe(200);
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('paid');
    await page.screenshot({ path: screenshotPath('standalone-desktop-paid'), fullPage: true });
    for (const c of await ctx.cookies()) cookies.push(c.value);
    await ctx.close();
  });

  it('the merchant logs in (after a wrong password) and refunds part of the QR order', async () => {
    const paid = await h.db.selectFrom('orders').selectAll().where('sku', '=', 'coffee-beans').where('status', '=', 'paid').executeTakeFirstOrThrow();
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await page.goto(`${app.baseUrl}/merchant/login`);
    await page.getByTestId('merchant-password').fill('not-the-password');
    await page.getByTestId('merchant-login').click();
    await expect.poll(() => page.getByTestId('login-error').textContent()).toContain('密码错误');
    await page.getByTestId('merchant-password').fill(SECRETS.MERCHANT_PASSWORD);
    await page.getByTestId('merchant-login').click();
    await page.waitForURL((u) => u.pathname === '/merchant/orders');
    await page.goto(`${app.baseUrl}/merchant/orders/${paid.id}`);
    await page.getByTestId('refund-amount').fill('10.00');
    await page.getByTestId('refund-submit').click();
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('partially_refunded');
    await page.screenshot({ path: screenshotPath('standalone-merchant-refund'), fullPage: true });
    for (const c of await ctx.cookies()) cookies.push(c.value);

    // A webhook endpoint through the merchant API, and one signed delivery to it.
    const cookie = (await ctx.cookies()).filter((c) => c.name === 'wxcheckout_session').map((c) => `${c.name}=${c.value}`).join('; ');
    const ep = await fetch(`${app.baseUrl}/api/merchant/webhook-endpoints`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ url: `${rx.base}/hook` }) });
    expect(ep.status).toBe(201);
    webhookSecret = ((await ep.json()) as { secret: string }).secret;
    // An API key, used by a backend call: it must never reach the log either.
    const made = await fetch(`${app.baseUrl}/api/merchant/api-keys`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'standalone' }) });
    apiKey = ((await made.json()) as { key: string }).key;
    const created = await fetch(`${app.baseUrl}/api/v1/checkout/sessions`, {
      method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount_fen: 100, description: 'standalone', merchant_reference: 'STANDALONE-1' }),
    });
    expect(created.status).toBe(201);
    expect((await fetch(`${app.baseUrl}/api/v1/checkout/sessions`, { headers: { authorization: `Bearer ${apiKey}x` } })).status).toBe(401);
    const evt = await emitEvent(h.db, { type: 'checkout.session.paid', data: { object: { id: 'cs_standalone' } }, orderId: paid.id });
    await waitFor(async () => rx.hitsFor(evt).length > 0, 15_000, 'the webhook delivered');
    await ctx.close();
  });

  it('the log of the whole run: JSON lines with the fields, and no secret anywhere in the output', async () => {
    // A forged notify carrying the API key, and a scrape with the token: neither may leave a secret behind.
    await fetch(`${app.baseUrl}/api/wechatpay/notify`, { method: 'POST', body: `<xml><sign>${SECRETS.WECHATPAY_API_KEY}</sign></xml>` });
    await waitFor(async () => jsonLines(app.logs()).some((l) => l.event === 'webhook_delivery' && l.outcome === 'delivered'), 10_000, 'the delivery logged');
    await waitFor(async () => jsonLines(app.logs()).some((l) => l.event === 'notify' && l.kind === 'refund' && l.outcome === 'applied'), 20_000, 'the refund notify logged');
    await waitFor(async () => jsonLines(app.logs()).some((l) => l.event === 'refund' && l.action === 'submit'), 20_000, 'the refund call logged');
    const m = await scrape(app.baseUrl, { authorization: `Bearer ${SECRETS.METRICS_TOKEN}` });
    // This run's counts, as Prometheus would see them.
    expect(m.get('wxcheckout_start_payments_total{outcome="jsapi"}')).toBe(1);
    expect(m.get('wxcheckout_start_payments_total{outcome="native"}')).toBe(1);
    expect(m.get('wxcheckout_payment_transitions_total{source="notify",outcome="applied"}')).toBe(2);
    expect(m.get('wxcheckout_merchant_logins_total{result="bad_password"}')).toBe(1);
    expect(m.get('wxcheckout_merchant_logins_total{result="ok"}')).toBe(1);
    expect(m.get('wxcheckout_refunds_total{status="processing"}')).toBe(1);
    // Run from outside the repository, the checkpoint worker still finds better-sqlite3 (beside server.js).
    expect(m.get('wxcheckout_sqlite_checkpoint_worker')).toBe(1);
    expect(m.get('wxcheckout_refunds_total{status="succeeded"}')).toBe(1);
    // The test's event, and the refund.succeeded of the refund if its notify landed after the endpoint was added.
    expect(m.get('wxcheckout_webhook_deliveries_total{result="delivered"}')).toBeGreaterThanOrEqual(1);
    expect(m.get('wxcheckout_webhook_delivery_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(m.get('wxcheckout_wechat_api_calls_total{api="refund",result="success"}')).toBe(1);
    const out = app.logs();
    const lines = jsonLines(out);
    const has = (event: string, match: Partial<LogLine> = {}) => lines.filter((l) => l.event === event && Object.entries(match).every(([k, v]) => l[k] === v));
    const fields = { order_id: expect.any(String), out_trade_no: expect.any(String), outcome: expect.any(String), duration_ms: expect.any(Number) };
    expect(has('start_payment').length).toBeGreaterThanOrEqual(2);
    for (const l of has('start_payment')) expect(l).toMatchObject(fields);
    for (const l of has('notify', { kind: 'payment', outcome: 'applied' })) expect(l).toMatchObject(fields);
    expect(has('notify', { kind: 'payment', outcome: 'applied' }).length).toBe(2);
    expect(has('payment_transition', { outcome: 'applied' })).toHaveLength(2);
    for (const l of has('payment_transition')) expect(l).toMatchObject(fields);
    expect(has('refund', { action: 'submit', outcome: 'accepted' })).toEqual([expect.objectContaining({ ...fields, out_refund_no: expect.any(String) })]);
    expect(has('refund', { action: 'result', outcome: 'applied' })).toEqual([expect.objectContaining({ ...fields, status: 'succeeded' })]);
    expect(has('webhook_delivery', { outcome: 'delivered' })).toContainEqual(expect.objectContaining({ order_id: expect.any(String), duration_ms: expect.any(Number), status_code: 200 }));
    expect(has('merchant_login').map((l) => l.outcome)).toEqual(['bad_password', 'ok']);
    expect(has('wechat_call', { api: 'unifiedorder', outcome: 'success' }).length).toBeGreaterThanOrEqual(2);
    expect(lines.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);

    const secrets = [...Object.values(SECRETS), apiKey, apiKey.replace(/^sk_test_/, ''), webhookSecret, webhookSecret.replace(/^whsec_/, ''), ...cookies.filter((c) => c.length >= 16), ...openids];
    expect(secrets.length).toBeGreaterThanOrEqual(8);
    for (const s of secrets) expect(out.includes(s), `a secret (${s.slice(0, 4)}…) is in the output`).toBe(false);
    // The openid appears masked, so the merchant can still match a line to an order.
    expect(out).toContain(`${openids[0].slice(0, 4)}…${openids[0].slice(-4)}`);
  });
});
