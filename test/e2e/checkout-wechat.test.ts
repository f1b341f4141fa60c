import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshotPath, wechatContext } from '../helpers/browser';
import type { Engine } from '../helpers/db';
import { type AppServer, startApp } from '../helpers/server';

/**
 * The buyer inside WeChat (JSAPI): shop link -> sandbox OAuth -> Pay -> the sandbox bridge's payment
 * sheet -> order page paid through the sandbox's real notify. The sandbox's bridge.js stands in for
 * the WeChat client's WeixinJSBridge.
 */
interface SimOrder { out_trade_no: string; total_fee: number | string; trade_type: string; state: string; prepay_id: string; sign_type: string }

async function simOrders(app: AppServer): Promise<SimOrder[]> {
  const r = await fetch(`${app.baseUrl}/sandbox/sim/orders`);
  return ((await r.json()) as { orders: SimOrder[] }).orders;
}

/** Opens the shop link the way a buyer does (a full page load) and lands back on it after OAuth. */
async function openShop(page: Page, app: AppServer, sku: string) {
  const seen: string[] = [];
  page.on('request', (r) => {
    if (r.isNavigationRequest()) seen.push(r.url());
  });
  // domcontentloaded: the late-bridge test holds bridge.js back, and an async script delays `load`.
  await page.goto(`${app.baseUrl}/shop/${sku}`, { waitUntil: 'domcontentloaded' });
  // The sandbox's authorize 302 keeps `#wechat_redirect` (browsers carry a fragment across redirects).
  await page.waitForURL((u) => u.origin + u.pathname === `${app.baseUrl}/shop/${sku}`, { waitUntil: 'domcontentloaded' });
  await page.locator('[data-testid="pay-panel"][data-ready="1"]').waitFor();
  return seen;
}

async function payInSheet(page: Page, which: 'pay' | 'cancel') {
  const btn = page.getByTestId(which === 'pay' ? 'sandbox-sheet-pay' : 'sandbox-sheet-cancel');
  await btn.waitFor({ timeout: 15_000 });
  await btn.click();
}

async function expectPaidOrderPage(page: Page, app: AppServer, shot: string) {
  await page.waitForURL(/\/orders\/cs_[A-Za-z0-9_-]+/, { timeout: 15_000 });
  const status = page.getByTestId('order-status');
  await expect.poll(() => status.getAttribute('data-status'), { timeout: 20_000 }).toBe('paid');
  await page.screenshot({ path: screenshotPath(shot), fullPage: true });
  const id = new URL(page.url()).pathname.split('/').pop()!;
  const r = await page.request.get(`${app.baseUrl}/api/orders/${id}`);
  expect(r.status()).toBe(200);
  const j = await r.json();
  expect(j).toMatchObject({ id, status: 'paid', final: true });
  expect(j.paidAt).toBeTruthy();
  return j as { id: string; amountFen: number };
}

/** `full`: every case; otherwise the main flow (and, on v3, the confirmation by query). */
function suite(engine: Engine, full: boolean, version: 'v2' | 'v3' = 'v2') {
  describe(`WeChat buyer (JSAPI) on ${engine}, API ${version}`, () => {
    let app: AppServer;
    let browser: Browser;
    let ctx: BrowserContext;
    beforeAll(async () => {
      [app, browser] = await Promise.all([startApp({ engine, env: { WECHATPAY_API_VERSION: version } }), launchBrowser()]);
    });
    afterAll(async () => {
      await browser?.close();
      await app?.stop();
    });

    it('shop link -> OAuth -> Pay -> payment sheet -> Pay -> order page shows paid', async () => {
      ctx = await wechatContext(browser);
      const page = await ctx.newPage();
      const nav = await openShop(page, app, 'green-tea');
      expect(nav.some((u) => u.includes('/api/wechat/oauth/start?returnTo=%2Fshop%2Fgreen-tea'))).toBe(true);
      expect(nav.some((u) => u.includes('/sandbox/open/connect/oauth2/authorize'))).toBe(true);
      expect(nav.some((u) => u.includes('/api/wechat/oauth/callback?code='))).toBe(true);
      await expect.poll(() => page.getByTestId('price').textContent()).toBe('¥68.00');
      await page.getByTestId('quantity').fill('2');
      await expect.poll(() => page.getByTestId('total').textContent()).toBe('¥136.00');
      await page.screenshot({ path: screenshotPath(`checkout-wechat-shop-${engine}-${version}`), fullPage: true });
      const before = (await simOrders(app)).length;
      await page.getByTestId('pay-button').click();
      await page.getByTestId('sandbox-sheet-pay').waitFor({ timeout: 15_000 });
      await page.screenshot({ path: screenshotPath(`checkout-wechat-sheet-${engine}-${version}`), fullPage: true });
      await payInSheet(page, 'pay');
      const j = await expectPaidOrderPage(page, app, `checkout-wechat-paid-${engine}-${version}`);
      expect(j.amountFen).toBe(13600);
      const sim = await simOrders(app);
      expect(sim.length).toBe(before + 1);
      // On v3 the order went through /v3/pay/transactions/jsapi, the sheet checked an RSA paySign, and the
      // notify came back as signed, encrypted JSON (the sandbox keeps sign_type RSA for v3 orders).
      expect(sim[0]).toMatchObject({ trade_type: 'JSAPI', sign_type: version === 'v3' ? 'RSA' : 'MD5' });
      expect(Number(sim[0].total_fee)).toBe(13600);
      await ctx.close();
    });

    if (full || version === 'v3') it('a lost notify: the order page says "confirming with WeChat", then the server confirms by orderquery', async () => {
      const fault = (body: object) => fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await fault({ fault: 'DROP_NOTIFY', count: 1 });
      // A slow orderquery keeps the confirming state on screen long enough to look at.
      await fault({ api: 'orderquery', fault: 'DELAY', count: 1, delayMs: 2500 });
      try {
        ctx = await wechatContext(browser);
        const page = await ctx.newPage();
        await openShop(page, app, 'green-tea');
        await page.getByTestId('pay-button').click();
        await payInSheet(page, 'pay');
        await page.waitForURL(/\/orders\/cs_/, { timeout: 15_000 });
        await page.getByTestId('confirming').waitFor({ timeout: 5_000 });
        expect(await page.getByTestId('order-status').getAttribute('data-status')).toBe('pending');
        await page.screenshot({ path: screenshotPath(`checkout-wechat-confirming-${version}`), fullPage: true });
        await expectPaidOrderPage(page, app, `checkout-wechat-confirmed-by-query-${version}`);
        expect(await page.getByTestId('confirming').count()).toBe(0);
        await ctx.close();
      } finally {
        await fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'DELETE' });
      }
    });

    if (!full) return;

    it('a forged OAuth state is refused with a clear page, and no openid is stored', async () => {
      ctx = await wechatContext(browser);
      const page = await ctx.newPage();
      // A fresh session starts a round (state in its session), then an attacker's callback URL arrives.
      const start = await page.request.get(`${app.baseUrl}/api/wechat/oauth/start?returnTo=%2Fshop%2Fgreen-tea`, { maxRedirects: 0 });
      expect(start.status()).toBe(302);
      const r = await page.goto(`${app.baseUrl}/api/wechat/oauth/callback?code=stolen0code&state=0123456789abcdef0123456789abcdef`);
      expect(r!.status()).toBe(400);
      expect(await page.getByTestId('oauth-error').textContent()).toContain('授权链接无效');
      await page.screenshot({ path: screenshotPath('checkout-oauth-forged-state'), fullPage: true });
      // Still no openid: the shop page sends this browser through OAuth again.
      const seen = await openShop(page, app, 'green-tea');
      expect(seen.some((u) => u.includes('/api/wechat/oauth/start'))).toBe(true);
      await ctx.close();
    });

    it('cancel first, then pay again with the same prepay (no second unifiedorder)', async () => {
      ctx = await wechatContext(browser);
      const page = await ctx.newPage();
      await openShop(page, app, 'coffee-beans');
      const before = (await simOrders(app)).length;
      await page.getByTestId('pay-button').click();
      await payInSheet(page, 'cancel');
      const notice = page.getByTestId('pay-notice');
      await expect.poll(() => notice.textContent()).toContain('取消');
      await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status')).toBe('pending');
      await page.screenshot({ path: screenshotPath('checkout-wechat-cancelled'), fullPage: true });
      expect(new URL(page.url()).pathname).toBe('/shop/coffee-beans');
      await page.getByTestId('pay-button').click();
      await payInSheet(page, 'pay');
      await expectPaidOrderPage(page, app, 'checkout-wechat-cancel-then-paid');
      expect((await simOrders(app)).length).toBe(before + 1);
      await ctx.close();
    });

    it('a double tap (and a second tab tapping at once) places one unifiedorder', async () => {
      ctx = await wechatContext(browser);
      const page = await ctx.newPage();
      await openShop(page, app, 'mooncake-box');
      const page2 = await ctx.newPage();
      await page2.goto(`${app.baseUrl}/shop/mooncake-box`);
      await page2.locator('[data-testid="pay-panel"][data-ready="1"]').waitFor();
      const before = (await simOrders(app)).length;
      await Promise.all([page.getByTestId('pay-button').dblclick(), page2.getByTestId('pay-button').click()]);
      await payInSheet(page, 'pay');
      await expectPaidOrderPage(page, app, 'checkout-wechat-double-tap');
      const sim = await simOrders(app);
      expect(sim.length).toBe(before + 1);
      expect(sim[0].state).toBe('SUCCESS');
      await ctx.close();
    });

    it('the sheet answering :fail shows why and lets the buyer pay again', async () => {
      ctx = await wechatContext(browser);
      // WeChat refusing the parameters (as it does for an expired prepay_id): the bridge's check says no.
      await ctx.route('**/sandbox/sim/jsapi/check', (route) =>
        route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ok: false, reason: '调用支付JSAPI缺少参数：total_fee' }) }));
      const page = await ctx.newPage();
      await openShop(page, app, 'test-1fen');
      await page.getByTestId('pay-button').click();
      await expect.poll(() => page.getByTestId('pay-notice').textContent()).toContain('支付失败: 调用支付JSAPI缺少参数：total_fee');
      expect(await page.getByTestId('pay-button').textContent()).toBe('重新支付');
      await page.screenshot({ path: screenshotPath('checkout-wechat-fail'), fullPage: true });
      await ctx.close();
    });

    it('the bridge arriving after the tap: the panel waits for WeixinJSBridgeReady', async () => {
      ctx = await wechatContext(browser);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      await ctx.route('**/sandbox/bridge.js', async (route) => {
        await gate;
        await route.continue();
      });
      const page = await ctx.newPage();
      await openShop(page, app, 'test-1fen');
      expect(await page.evaluate(() => typeof (window as unknown as { WeixinJSBridge?: unknown }).WeixinJSBridge)).toBe('undefined');
      await page.getByTestId('pay-button').click();
      await expect.poll(() => page.getByTestId('pay-notice').textContent(), { timeout: 15_000 }).toContain('等待微信支付组件');
      await page.screenshot({ path: screenshotPath('checkout-wechat-bridge-late'), fullPage: true });
      release();
      await payInSheet(page, 'pay');
      await expectPaidOrderPage(page, app, 'checkout-wechat-bridge-late-paid');
      await ctx.close();
    });
  });
}

suite('sqlite', true);
suite('postgres', false);
suite('sqlite', false, 'v3');
suite('postgres', false, 'v3');
