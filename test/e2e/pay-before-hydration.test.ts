import jsQR from 'jsqr';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP_UA, launchBrowser, screenshotPath, wechatContext } from '../helpers/browser';
import { type AppServer, startApp } from '../helpers/server';
import { merchantCookie } from '../helpers/webhook-receiver';

/**
 * The pay control before (and without) the client bundle. It is a form posting to the server action:
 * a desktop buyer with JavaScript off gets a server-rendered QR that decodes to the sandbox's code_url,
 * pays it, and the "check payment" page says paid. With JavaScript on, a tap before hydration is held
 * and replayed: the QR (desktop) or the payment sheet (WeChat) follows without a second tap.
 */
interface SimOrder { out_trade_no: string; trade_type: string; code_url: string | null }

async function simOrders(app: AppServer): Promise<SimOrder[]> {
  return ((await (await fetch(`${app.baseUrl}/sandbox/sim/orders`)).json()) as { orders: SimOrder[] }).orders;
}

async function decodeQr(page: Page): Promise<string> {
  const png = PNG.sync.read(await page.getByTestId('pay-qr').screenshot());
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  if (!code) throw new Error('QR did not decode');
  return code.data;
}

/** The buyer "scans" the code with WeChat: the sandbox's payer (docs/sandbox.md, POST /sandbox/sim/pay). */
async function scanAndPay(app: AppServer, codeUrl: string) {
  const r = await fetch(`${app.baseUrl}/sandbox/sim/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code_url: codeUrl }) });
  expect(r.ok).toBe(true);
}

/** Without JavaScript nothing updates by itself: reload the status page until the server says `want`. */
async function reloadUntilStatus(page: Page, want: string) {
  await expect.poll(async () => {
    await page.reload();
    return page.getByTestId('order-status').getAttribute('data-status');
  }, { timeout: 20_000, interval: 500 }).toBe(want);
}

/** Holds every client bundle request until release() (the page paints, but does not hydrate). */
async function holdBundles(page: Page): Promise<() => void> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  await page.route('**/_next/static/**/*.js', async (route) => {
    await gate;
    await route.continue();
  });
  return release;
}

describe('the pay control before hydration and without JavaScript', () => {
  let app: AppServer;
  let browser: Browser;
  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const noScripts = (): Promise<BrowserContext> =>
    browser.newContext({ userAgent: DESKTOP_UA, viewport: { width: 1200, height: 900 }, locale: 'zh-CN', javaScriptEnabled: false });

  it('/shop/[sku] with JavaScript off: the form posts, the server renders the QR, amount, expiry and a check link; paying shows paid', async () => {
    const ctx = await noScripts();
    const page = await ctx.newPage();
    await page.goto(`${app.baseUrl}/shop/test-1fen`);
    const button = page.getByTestId('pay-button');
    expect(await button.isEnabled()).toBe(true);
    await Promise.all([page.waitForNavigation(), button.click()]);
    await page.getByTestId('pay-qr').waitFor();
    expect(await page.getByTestId('pay-amount').textContent()).toBe('¥0.01');
    // An absolute China time, not a countdown that cannot tick without scripts.
    expect(await page.getByTestId('qr-expires-at').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(await page.getByTestId('qr-countdown').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('no-js-shop-qr'), fullPage: true });
    const sim = await simOrders(app);
    expect(sim[0].trade_type).toBe('NATIVE');
    const code = await decodeQr(page);
    expect(code).toBe(sim[0].code_url);

    // Posting the form again (back, tap again) is the same order and the same QR: no second unifiedorder.
    await page.goBack();
    await Promise.all([page.waitForNavigation(), page.getByTestId('pay-button').click()]);
    expect(await decodeQr(page)).toBe(code);
    expect((await simOrders(app)).length).toBe(sim.length);

    await scanAndPay(app, code);
    await Promise.all([page.waitForNavigation(), page.getByTestId('check-payment').click()]);
    expect(new URL(page.url()).pathname).toMatch(/^\/orders\/cs_/);
    await reloadUntilStatus(page, 'paid');
    await page.screenshot({ path: screenshotPath('no-js-shop-paid'), fullPage: true });
    await ctx.close();
  });

  it('/pay/{id} with JavaScript off: the session QR decodes to the code_url; paying it shows paid on the check page', async () => {
    const cookie = await merchantCookie(app.baseUrl);
    const keyRes = await fetch(`${app.baseUrl}/api/merchant/api-keys`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'no-js test' }) });
    const { key } = (await keyRes.json()) as { key: string };
    const created = await fetch(`${app.baseUrl}/api/v1/checkout/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount_fen: 1234, description: '无脚本测试', merchant_reference: `NOJS-${Date.now()}` }),
    });
    expect(created.status).toBe(201);
    const s = (await created.json()) as { id: string; url: string };

    const ctx = await noScripts();
    const page = await ctx.newPage();
    await page.goto(s.url);
    await Promise.all([page.waitForNavigation(), page.getByTestId('pay-button').click()]);
    await page.getByTestId('pay-qr').waitFor();
    expect(await page.getByTestId('pay-amount').textContent()).toBe('¥12.34');
    expect(await page.getByTestId('qr-expires-at').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const sim = await simOrders(app);
    const code = await decodeQr(page);
    expect(code).toBe(sim[0].code_url);
    await scanAndPay(app, code);
    await Promise.all([page.waitForNavigation(), page.getByTestId('check-payment').click()]);
    expect(new URL(page.url()).pathname).toBe(`/pay/${s.id}`);
    await reloadUntilStatus(page, 'paid');
    await page.screenshot({ path: screenshotPath('no-js-session-paid'), fullPage: true });
    await ctx.close();
  });

  it('JavaScript on, a desktop tap before hydration is held and replayed: the QR follows, in the same document', async () => {
    const ctx = await browser.newContext({ userAgent: DESKTOP_UA, viewport: { width: 1200, height: 900 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    const release = await holdBundles(page);
    await page.goto(`${app.baseUrl}/shop/green-tea`, { waitUntil: 'domcontentloaded' });
    expect(await page.getByTestId('pay-panel').getAttribute('data-ready')).toBe('0');
    await page.getByTestId('quantity').fill('3');
    await page.evaluate(() => ((window as unknown as { __sameDocument: number }).__sameDocument = 1));
    const before = (await simOrders(app)).length;
    await page.getByTestId('pay-button').click();
    await page.locator('[data-testid="pay-form"][data-held="1"]').waitFor();
    release();
    await page.getByTestId('pay-qr').waitFor({ timeout: 20_000 });
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: number }).__sameDocument)).toBe(1);
    // The quantity typed before hydration is the one paid for: 3 × ¥68.00.
    expect(await page.getByTestId('pay-amount').textContent()).toBe('¥204.00');
    const sim = await simOrders(app);
    expect(sim.length).toBe(before + 1);
    expect(await decodeQr(page)).toBe(sim[0].code_url);
    await ctx.close();
  });

  it('inside WeChat, a tap before hydration opens the payment sheet once the page hydrates', async () => {
    const ctx = await wechatContext(browser);
    const page = await ctx.newPage();
    // OAuth first (server redirects only), then hold the bundles of the shop page itself.
    await page.goto(`${app.baseUrl}/shop/test-1fen`);
    await page.locator('[data-testid="pay-panel"][data-ready="1"]').waitFor();
    const release = await holdBundles(page);
    await page.reload({ waitUntil: 'domcontentloaded' });
    expect(await page.getByTestId('pay-panel').getAttribute('data-ready')).toBe('0');
    await page.getByTestId('pay-button').click();
    await page.locator('[data-testid="pay-form"][data-held="1"]').waitFor();
    release();
    await page.getByTestId('sandbox-sheet-pay').waitFor({ timeout: 20_000 });
    await page.getByTestId('sandbox-sheet-pay').click();
    await page.waitForURL(/\/orders\/cs_/, { timeout: 15_000 });
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('paid');
    await ctx.close();
  });
});
