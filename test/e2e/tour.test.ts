import { mkdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jsQR from 'jsqr';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP_UA, launchBrowser, wechatContext } from '../helpers/browser';
import { sandboxOrder, sandboxOrders, sandboxPay } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';

/**
 * The README's five-minute tour, walked in Chromium exactly as a newcomer would, on the defaults
 * (sandbox mode, merchant password `sandbox`):
 *   1. the shop home and a product's shop link;
 *   2. a WeChat buyer pays with JSAPI: silent OAuth, the sandbox bridge's payment sheet, order page paid;
 *   3. a desktop buyer pays the Native QR through the sandbox and watches the page flip to paid;
 *   4. the sandbox dashboard shows that order's notify delivery;
 *   5. the merchant logs in and refunds part of that order.
 * Screenshots go to docs/img/tour-*.png with DOCS_SCREENSHOTS=1 (`npm run docs:screenshots`), otherwise
 * to a scratch folder in the OS temp dir, so `npm test` never touches the git tree.
 */

const DOCS = process.env.DOCS_SCREENSHOTS === '1';
const SHOT_DIR = DOCS ? path.resolve(__dirname, '../../docs/img') : path.join(os.tmpdir(), 'wechat-h5-checkout-tour');
/** The docs images are committed: keep each small. */
const MAX_PNG_BYTES = 200_000;

/**
 * A page: its viewport, or with `upTo` the page from its top down to the bottom of that element. A
 * locator: just that element.
 */
async function shoot(target: Page | Locator, name: string, opts: { upTo?: Locator } = {}): Promise<void> {
  mkdirSync(SHOT_DIR, { recursive: true });
  const file = path.join(SHOT_DIR, `${name}.png`);
  if (!('goto' in target)) {
    await target.screenshot({ path: file });
  } else if (opts.upTo) {
    await target.evaluate(() => window.scrollTo(0, 0));
    const box = await opts.upTo.boundingBox();
    if (!box) throw new Error(`${name}: the element to shoot down to is not visible`);
    const width = target.viewportSize()!.width;
    await target.screenshot({ path: file, fullPage: true, clip: { x: 0, y: 0, width, height: Math.ceil(box.y + box.height + 16) } });
  } else {
    await target.screenshot({ path: file });
  }
  expect(statSync(file).size, `${name}.png size`).toBeLessThan(MAX_PNG_BYTES);
}

async function decodeQr(qr: Locator): Promise<string> {
  const png = PNG.sync.read(await qr.screenshot());
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  if (!code) throw new Error('the payment QR did not decode');
  return code.data;
}

function desktopTourContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ userAgent: DESKTOP_UA, viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
}

describe('the five-minute tour', () => {
  let app: AppServer;
  let browser: Browser;
  let desktop: BrowserContext;
  // Handed from step 3 to steps 4 and 5: the order the desktop buyer paid by QR.
  let qrOrder: { id: string; outTradeNo: string } | undefined;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp(), launchBrowser()]);
    desktop = await desktopTourContext(browser);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('1. the shop home lists the catalog; a product opens its shop link', async () => {
    const page = await desktop.newPage();
    await page.goto(`${app.baseUrl}/`);
    expect(await page.locator('h1').textContent()).toBe('商店');
    expect(await page.getByTestId('product').count()).toBeGreaterThanOrEqual(4);
    const tea = page.locator('[data-testid="product"][data-sku="green-tea"]');
    expect(await tea.locator('.price').textContent()).toBe('¥68.00');
    expect(await tea.locator('a').getAttribute('href')).toBe('/shop/green-tea');
    await shoot(page.locator('main'), 'tour-1-shop');

    await tea.locator('a').click();
    await page.waitForURL(`${app.baseUrl}/shop/green-tea`);
    await page.locator('[data-testid="pay-panel"][data-ready="1"]').waitFor();
    expect(await page.getByTestId('price').textContent()).toBe('¥68.00');
    // Outside WeChat the shop page offers the Native QR.
    expect(await page.getByTestId('pay-panel').getAttribute('data-mode')).toBe('native');
    expect(await page.getByTestId('pay-button').textContent()).toBe('生成付款二维码');
    await page.close();
  });

  it('2. a WeChat buyer: silent OAuth, the payment sheet, the order page says paid', async () => {
    const ctx = await wechatContext(browser);
    const page = await ctx.newPage();
    const navigations: string[] = [];
    page.on('request', (r) => {
      if (r.isNavigationRequest()) navigations.push(r.url());
    });
    await page.goto(`${app.baseUrl}/shop/green-tea`);
    // Silent snsapi_base OAuth through the sandbox, back on the shop link by a full page load.
    await page.waitForURL((u) => u.origin + u.pathname === `${app.baseUrl}/shop/green-tea`);
    expect(navigations.some((u) => u.includes('/api/wechat/oauth/start?returnTo=%2Fshop%2Fgreen-tea'))).toBe(true);
    expect(navigations.some((u) => u.includes('/sandbox/open/connect/oauth2/authorize'))).toBe(true);
    expect(navigations.some((u) => u.includes('/api/wechat/oauth/callback?code='))).toBe(true);
    await page.locator('[data-testid="pay-panel"][data-ready="1"]').waitFor();
    expect(await page.getByTestId('pay-panel').getAttribute('data-mode')).toBe('jsapi');

    await page.getByTestId('pay-button').click();
    // The sandbox's WeixinJSBridge (/sandbox/bridge.js) shows its payment sheet.
    await page.getByTestId('sandbox-sheet-pay').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('sandbox-sheet-amount').textContent()).toBe('¥68.00');
    expect(await page.getByTestId('sandbox-sheet').textContent()).toContain('微信支付 · 沙箱');
    await shoot(page, 'tour-2-wechat-sheet');

    await page.getByTestId('sandbox-sheet-pay').click();
    await page.waitForURL(/\/orders\/cs_[A-Za-z0-9_-]+/, { timeout: 15_000 });
    const status = page.getByTestId('order-status');
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 20_000 }).toBe('paid');
    await page.getByTestId('paid-thanks').waitFor();
    expect(await page.getByTestId('order-amount').textContent()).toBe('¥68.00');
    await shoot(page, 'tour-2-wechat-paid');

    const id = new URL(page.url()).pathname.split('/').pop()!;
    const sim = (await sandboxOrders(app.baseUrl)).orders[0];
    expect(sim).toMatchObject({ trade_type: 'JSAPI', state: 'SUCCESS' });
    const api = await page.request.get(`${app.baseUrl}/api/orders/${id}`);
    expect(await api.json()).toMatchObject({ id, status: 'paid', amountFen: 6800 });
    await ctx.close();
  });

  it('3. a desktop buyer: the QR pays through the sandbox and the page flips to paid', async () => {
    const page = await desktop.newPage();
    await page.goto(`${app.baseUrl}/shop/coffee-beans`);
    await page.locator('[data-testid="pay-panel"][data-ready="1"]').waitFor();
    await page.getByTestId('pay-button').click();
    const qr = page.getByTestId('pay-qr');
    await qr.waitFor();
    expect(await page.getByTestId('pay-amount').textContent()).toBe('¥45.00');
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status')).toBe('pending');
    // The QR is the sandbox's code_url for a NATIVE trade.
    const codeUrl = await decodeQr(qr);
    expect(codeUrl).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    await shoot(page.locator('main'), 'tour-3-qr');

    const sim = (await sandboxOrders(app.baseUrl)).orders.find((o) => o.code_url === codeUrl);
    expect(sim).toMatchObject({ trade_type: 'NATIVE', state: 'NOTPAY' });
    expect(Number(sim!.total_fee)).toBe(4500);
    // The buyer scans and pays: the sandbox's payer, then its notify to the app.
    const paid = await sandboxPay(app.baseUrl, { code_url: codeUrl });
    expect(paid.status).toBe(200);
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('paid');
    expect(await page.getByTestId('pay-qr').count()).toBe(0);
    const href = await page.locator('[data-testid="native-pay"] a').getAttribute('href');
    expect(href).toMatch(/^\/orders\/cs_[A-Za-z0-9_-]+$/);
    qrOrder = { id: href!.split('/').pop()!, outTradeNo: sim!.out_trade_no };
    await page.close();
  });

  it('4. the sandbox dashboard shows the notify delivered for that order', async () => {
    expect(qrOrder, 'step 3 paid an order').toBeDefined();
    const { outTradeNo } = qrOrder!;
    // The notify WeChat (the sandbox) sent to /api/wechatpay/notify was answered SUCCESS.
    const sim = await sandboxOrder(app.baseUrl, outTradeNo);
    expect(sim?.deliveries.some((d: { status: string }) => d.status === 'delivered')).toBe(true);

    const page = await desktop.newPage();
    await page.goto(`${app.baseUrl}/sandbox`);
    expect(await page.locator('h1').textContent()).toBe('微信沙箱');
    const row = page.locator(`[data-testid="sandbox-order"][data-out-trade-no="${outTradeNo}"]`);
    expect(await row.getAttribute('data-state')).toBe('SUCCESS');
    expect(await row.textContent()).toContain('NATIVE');
    const delivery = row.locator('[data-testid="sandbox-delivery"][data-status="delivered"]');
    expect(await delivery.count()).toBe(1);
    // Its attempt log: HTTP 200 and accepted (the app's exact SUCCESS reply).
    expect(await delivery.locator('ol li').first().textContent()).toMatch(/#1 · 200 · ✓ .*SUCCESS/);
    // Both tour payments are listed: the WeChat buyer's JSAPI one too.
    expect(await page.locator('[data-testid="sandbox-order"][data-state="SUCCESS"]').count()).toBe(2);
    await page.locator('#orders').scrollIntoViewIfNeeded();
    await shoot(page.getByTestId('sandbox-orders'), 'tour-4-sandbox-dashboard');
    await page.close();
  });

  it('5. the merchant logs in, opens the order and refunds part of it', async () => {
    expect(qrOrder, 'step 3 paid an order').toBeDefined();
    const { id } = qrOrder!;
    // A context of its own: the merchant is not the buyer.
    const ctx = await desktopTourContext(browser);
    const page = await ctx.newPage();
    await page.goto(`${app.baseUrl}/merchant/login`);
    await page.getByTestId('merchant-password').fill('sandbox');
    await page.getByTestId('merchant-login').click();
    await page.waitForURL(`${app.baseUrl}/merchant/orders`);
    const listed = page.locator(`[data-testid="order-row"][data-order-id="${id}"]`);
    await listed.waitFor();
    expect(await listed.getAttribute('data-status')).toBe('paid');

    await page.goto(`${app.baseUrl}/merchant/orders/${id}`);
    const status = page.getByTestId('order-status');
    expect(await status.getAttribute('data-status')).toBe('paid');
    expect(await page.getByTestId('order-id').textContent()).toBe(id);
    // Prefilled with what is left to refund: all of it.
    expect(await page.getByTestId('refund-amount').inputValue()).toBe('45.00');
    await page.getByTestId('refund-amount').fill('10.00');
    await page.getByTestId('refund-submit').click();
    await expect.poll(() => page.getByTestId('refund-result').getAttribute('data-ok'), { timeout: 15_000 }).toBe('true');
    // The sandbox's refund notify settles it; the page refreshes itself until it has.
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 20_000 }).toBe('partially_refunded');
    await expect.poll(() => page.getByTestId('refund-row').first().getAttribute('data-status')).toBe('succeeded');
    await expect.poll(() => page.getByTestId('refund-amount').inputValue()).toBe('35.00');
    expect(await status.textContent()).toBe('部分退款');
    // The order, the refund form with its result, and the refunds table (the event timeline below is left out).
    await shoot(page, 'tour-5-merchant-refund', { upTo: page.locator('section.card').filter({ has: page.getByTestId('refunds') }) });

    const detail = await (await page.request.get(`${app.baseUrl}/api/merchant/orders/${id}`)).json();
    expect(detail.order).toMatchObject({ id, status: 'partially_refunded', refundedFen: 1000, refundableFen: 3500 });
    await ctx.close();
  });
});
