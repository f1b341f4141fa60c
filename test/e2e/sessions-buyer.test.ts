import type { Browser, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desktopContext, launchBrowser, screenshotPath, wechatContext } from '../helpers/browser';
import { waitFor } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';
import { merchantCookie, type Receiver, startReceiver, WEBHOOK_ENV } from '../helpers/webhook-receiver';

/**
 * The merchant's backend and its buyer, end to end: a script holding only an API key creates a checkout
 * session, a buyer in Chromium pays at the session's `url` (a desktop scanning the QR, and a WeChat
 * user agent through OAuth and the JSAPI sheet), lands on `success_url?session_id=...`, and the
 * merchant's receiver gets `checkout.session.paid`, verified with the `standardwebhooks` verifier,
 * carrying the session exactly as `GET /api/v1/checkout/sessions/{id}` returns it.
 */
type Json = Record<string, any>;

describe('a merchant backend drives the checkout with an API key', () => {
  let app: AppServer;
  let browser: Browser;
  let rx: Receiver;
  let key: string;
  let secret: string;

  beforeAll(async () => {
    [app, browser, rx] = await Promise.all([startApp({ env: WEBHOOK_ENV }), launchBrowser(), startReceiver()]);
    // The merchant's one-time setup in the Developers page (here through the same merchant API).
    const cookie = await merchantCookie(app.baseUrl);
    const post = async (path: string, body: unknown) =>
      (await fetch(`${app.baseUrl}${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<Json>;
    key = (await post('/api/merchant/api-keys', { name: 'shop backend' })).key;
    secret = (await post('/api/merchant/webhook-endpoints', { url: `${rx.base}/wechat-checkout`, events: ['checkout.session.paid'] })).secret;
  });
  afterAll(async () => {
    await browser?.close();
    await rx?.close();
    await app?.stop();
  });

  /** What the merchant's backend does: only the key, only HTTP. */
  const backend = {
    async create(reference: string): Promise<Json> {
      const r = await fetch(`${app.baseUrl}/api/v1/checkout/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ amount_fen: 2990, description: '演唱会门票 A 区', merchant_reference: reference, success_url: `${rx.base}/thanks`, metadata: { seat: 'A-12' } }),
      });
      expect(r.status).toBe(201);
      return r.json() as Promise<Json>;
    },
    async get(id: string): Promise<Json> {
      return (await fetch(`${app.baseUrl}/api/v1/checkout/sessions/${id}`, { headers: { authorization: `Bearer ${key}` } })).json() as Promise<Json>;
    },
    /** The receiver's paid event for `id`, verified as the merchant's code would verify it. */
    async paidEvent(id: string): Promise<Json> {
      return waitFor(async () => {
        for (const hit of rx.hits.filter((x) => x.path === '/wechat-checkout')) {
          const body = new Webhook(secret).verify(hit.body, hit.headers) as Json;
          if (body.type === 'checkout.session.paid' && body.data.object.id === id) return body;
        }
        return undefined;
      }, 20_000, `checkout.session.paid for ${id}`);
    },
  };

  async function landsOnSuccess(page: Page, id: string) {
    await page.waitForURL((u) => u.href.startsWith(`${rx.base}/thanks`), { timeout: 20_000 });
    expect(new URL(page.url()).searchParams.get('session_id')).toBe(id);
  }

  it('desktop: the session url shows the QR; the buyer scans and pays; success_url and a verified webhook follow', async () => {
    const s = await backend.create(`TICKET-DESKTOP-${Date.now()}`);
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await page.goto(s.url);
    await page.locator('[data-testid="pay-panel"][data-ready="1"]').waitFor();
    expect(await page.getByTestId('pay-panel').getAttribute('data-mode')).toBe('native');
    await expect.poll(() => page.getByTestId('price').textContent()).toBe('¥29.90');
    await page.getByTestId('pay-button').click();
    await page.getByTestId('pay-qr').waitFor();
    await page.screenshot({ path: screenshotPath('session-desktop-qr'), fullPage: true });
    const sim = ((await (await fetch(`${app.baseUrl}/sandbox/sim/orders`)).json()) as { orders: Json[] }).orders;
    const order = sim.find((o) => o.trade_type === 'NATIVE' && Number(o.total_fee) === 2990 && o.state === 'NOTPAY');
    expect(order).toBeTruthy();
    expect((await fetch(`${app.baseUrl}/sandbox/sim/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code_url: order!.code_url }) })).ok).toBe(true);
    await landsOnSuccess(page, s.id);

    const event = await backend.paidEvent(s.id);
    const now = await backend.get(s.id);
    expect(now).toMatchObject({ status: 'paid', metadata: { seat: 'A-12' }, transaction_id: expect.any(String) });
    expect(event.data.object).toEqual(now);
    await ctx.close();
  });

  it('inside WeChat: OAuth back to the session url, the JSAPI sheet, success_url and a verified webhook', async () => {
    const s = await backend.create(`TICKET-WECHAT-${Date.now()}`);
    const ctx = await wechatContext(browser);
    const page = await ctx.newPage();
    const seen: string[] = [];
    page.on('request', (r) => {
      if (r.isNavigationRequest()) seen.push(r.url());
    });
    await page.goto(s.url, { waitUntil: 'domcontentloaded' });
    await page.waitForURL((u) => u.origin + u.pathname === new URL(s.url).origin + new URL(s.url).pathname, { waitUntil: 'domcontentloaded' });
    expect(seen.some((u) => u.includes('/sandbox/open/connect/oauth2/authorize'))).toBe(true);
    await page.locator('[data-testid="pay-panel"][data-ready="1"]').waitFor();
    expect(await page.getByTestId('pay-panel').getAttribute('data-mode')).toBe('jsapi');
    await page.getByTestId('pay-button').click();
    await page.getByTestId('sandbox-sheet-pay').waitFor({ timeout: 15_000 });
    await page.screenshot({ path: screenshotPath('session-wechat-sheet'), fullPage: true });
    await page.getByTestId('sandbox-sheet-pay').click();
    await landsOnSuccess(page, s.id);

    const event = await backend.paidEvent(s.id);
    const now = await backend.get(s.id);
    expect(now).toMatchObject({ status: 'paid', payer_openid: expect.stringMatching(/^o/) });
    expect(event.data.object).toEqual(now);
    // The session url of a paid session sends a returning buyer straight on to success_url.
    const again = await ctx.newPage();
    await again.goto(s.url);
    await landsOnSuccess(again, s.id);
    await ctx.close();
  });

  it('a closed session says so and offers nothing to pay', async () => {
    const s = await backend.create(`TICKET-CLOSED-${Date.now()}`);
    const closed = await fetch(`${app.baseUrl}/api/v1/checkout/sessions/${s.id}/close`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect(closed.status).toBe(200);
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await page.goto(s.url);
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status')).toBe('closed');
    expect(await page.getByTestId('pay-button').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('session-closed'), fullPage: true });
    await ctx.close();
  });
});
