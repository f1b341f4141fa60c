import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { axeViolations, describeViolations } from '../helpers/axe';
import { desktopContext, launchBrowser, phoneContext, wechatContext } from '../helpers/browser';
import { placeSandboxAttempt, sandboxPay, waitFor } from '../helpers/orders';
import { clearFaults, SBX, setFaults } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';
import { merchantCookie } from '../helpers/webhook-receiver';

/**
 * Every page a buyer, a merchant or a developer sees passes axe-core's WCAG 2 A and AA rules (colour
 * contrast included) as Chromium renders it: the buyer's pages in each state that shows something new
 * (QR, notices, paid), the merchant's pages with data in them, the sandbox. A violation fails the test
 * and names the rule, the element and why.
 */
describe('WCAG 2 AA on every page (axe-core in Chromium)', () => {
  let app: AppServer;
  let browser: Browser;
  let h: DbHandle;
  let sessionId: string;
  let paidOrderId: string;
  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp({ env: { RECONCILE_INTERVAL_MS: '0' } }), launchBrowser()]);
    h = openDb(app.databaseUrl);
    const cookie = await merchantCookie(app.baseUrl);
    const { key } = (await (await fetch(`${app.baseUrl}/api/merchant/api-keys`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'a11y' }) })).json()) as { key: string };
    const s = await fetch(`${app.baseUrl}/api/v1/checkout/sessions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount_fen: 2990, description: '演唱会门票 A 区', merchant_reference: `A11Y-${Date.now()}` }),
    });
    sessionId = ((await s.json()) as { id: string }).id;
    // A paid order with a timeline, so the merchant's order page and list show every kind of row.
    const paid = await placeSandboxAttempt(app, h.db, { amountFen: 200, sku: 'green-tea' });
    await sandboxPay(app.baseUrl, paid.codeUrl!);
    paidOrderId = paid.orderId;
    await waitFor(async () => (await h.db.selectFrom('orders').select('status').where('id', '=', paidOrderId).executeTakeFirst())?.status === 'paid' || undefined, 20_000, 'the paid notify');
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await app?.stop();
  });

  async function expectClean(page: Page, what: string) {
    const vs = await axeViolations(page);
    expect(vs, `${what}:\n${describeViolations(vs)}`).toEqual([]);
  }

  async function visit(ctx: BrowserContext, path: string, ready?: string): Promise<Page> {
    const page = await ctx.newPage();
    await page.goto(`${app.baseUrl}${path}`);
    if (ready) await page.locator(ready).first().waitFor();
    return page;
  }

  it('buyer pages: home, shop (form, QR, error notice), pay page, order page, 404', async () => {
    const ctx = await desktopContext(browser);
    await expectClean(await visit(ctx, '/', '[data-testid="product"]'), 'home');
    const shop = await visit(ctx, '/shop/green-tea', '[data-testid="pay-panel"][data-ready="1"]');
    await expectClean(shop, 'shop');
    await shop.getByTestId('pay-button').click();
    await shop.getByTestId('pay-qr').waitFor();
    await expectClean(shop, 'shop with the QR');
    // WeChat Pay unreachable: the error notice.
    const failing = await visit(ctx, '/shop/mooncake-box', '[data-testid="pay-panel"][data-ready="1"]');
    await setFaults(app.baseUrl, { api: 'unifiedorder', fault: 'HTTP500', count: 3 });
    try {
      await failing.getByTestId('pay-button').click();
      await failing.getByTestId('pay-notice').waitFor();
      await expectClean(failing, 'shop with an error notice');
    } finally {
      await clearFaults(app.baseUrl);
    }
    await expectClean(await visit(ctx, `/pay/${sessionId}`, '[data-testid="pay-panel"][data-ready="1"]'), 'pay page');
    await expectClean(await visit(ctx, `/orders/${sessionId}`, '[data-testid="order-status"]'), 'order page (pending)');
    await expectClean(await visit(ctx, '/shop/no-such-sku', '[data-testid="not-found"]'), '404');
    await ctx.close();
  });

  it('inside WeChat: the shop and the pay page in JSAPI mode, and a paid order', async () => {
    const ctx = await wechatContext(browser);
    await expectClean(await visit(ctx, '/shop/test-1fen', '[data-testid="pay-panel"][data-ready="1"]'), 'shop (WeChat)');
    await expectClean(await visit(ctx, `/pay/${sessionId}`, '[data-testid="pay-panel"][data-ready="1"]'), 'pay page (WeChat)');
    await ctx.close();
    const merchant = await desktopContext(browser);
    await merchant.addCookies((await merchantCookie(app.baseUrl)).split('; ').map((c) => {
      const [name, ...v] = c.split('=');
      return { name, value: v.join('='), url: app.baseUrl };
    }));
    await expectClean(await visit(merchant, `/orders/${paidOrderId}`, '[data-testid="order-status"][data-status="paid"]'), 'order page (paid)');
    await merchant.close();
  });

  it('merchant pages: login, orders, an order, products, developers', async () => {
    const ctx = await desktopContext(browser);
    const login = await visit(ctx, '/merchant/login', '[data-testid="merchant-password"]');
    await expectClean(login, 'merchant login');
    await login.getByTestId('merchant-password').fill('wrong password');
    await login.getByTestId('merchant-login').click();
    await login.getByTestId('login-error').waitFor();
    await expectClean(login, 'merchant login refused');
    await login.getByTestId('merchant-password').fill('sandbox');
    await login.getByTestId('merchant-login').click();
    await login.waitForURL(/\/merchant\/orders/);
    // The URL changes before the orders page has rendered (the login action redirects client-side).
    await login.getByTestId('today-totals').waitFor();
    await waitFor(async () => (await login.title()) !== '' || undefined, 10_000, 'the orders page title');
    await expectClean(login, 'merchant orders');
    await expectClean(await visit(ctx, `/merchant/orders/${paidOrderId}`, '[data-testid="refund-amount"]'), 'merchant order');
    await expectClean(await visit(ctx, '/merchant/products', 'main'), 'merchant products');
    await expectClean(await visit(ctx, '/merchant/developers', 'main'), 'merchant developers');
    await ctx.close();
  });

  it('the sandbox dashboard and its scan page', async () => {
    const ctx = await desktopContext(browser);
    await expectClean(await visit(ctx, '/sandbox', 'main, body'), 'sandbox dashboard');
    const codeUrl = ((await (await fetch(`${app.baseUrl}/sandbox/sim/orders`)).json()) as { orders: Array<{ code_url: string | null }> }).orders.find((o) => o.code_url)?.code_url;
    expect(codeUrl).toBeTruthy();
    await expectClean(await visit(ctx, `/sandbox/scan?code_url=${encodeURIComponent(codeUrl!)}`, 'body'), 'sandbox scan');
    await ctx.close();
  });

  it("the sandbox's stand-ins for WeChat's own pages: OAuth consent, the H5 cashier and its refusal", async () => {
    const wx = await wechatContext(browser);
    const q = new URLSearchParams({ appid: SBX.appid, redirect_uri: `${app.baseUrl}/api/wechat/oauth/callback`, response_type: 'code', scope: 'snsapi_userinfo', state: 'a11y' });
    await expectClean(await visit(wx, `/sandbox/open/connect/oauth2/authorize?${q}#wechat_redirect`, '[data-testid="sandbox-consent"]'), 'OAuth consent');
    await wx.close();
    // A phone browser outside WeChat pays by H5: the shop sends it to the cashier (with a Referer).
    const phone = await phoneContext(browser);
    const shop = await visit(phone, '/shop/green-tea', '[data-testid="pay-panel"][data-ready="1"]');
    await shop.getByTestId('pay-button').click();
    await shop.getByTestId('sandbox-h5pay').waitFor();
    await expectClean(shop, 'H5 cashier');
    // The same link opened directly (no Referer): WeChat's refusal page.
    const direct = await phone.newPage();
    await direct.goto(shop.url());
    await direct.locator('body').waitFor();
    expect(await direct.getByTestId('sandbox-h5pay').count()).toBe(0);
    await expectClean(direct, 'H5 cashier refusal');
    await phone.close();
  });
});
