import jsQR from 'jsqr';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type DbHandle } from '@/lib/db';
import { DESKTOP_UA, PHONE_UA, desktopContext, launchBrowser, screenshotPath } from '../helpers/browser';
import { type AppServer, startApp } from '../helpers/server';

/** Desktop and phone browsers outside WeChat: the Native QR, its live status and expiry; who may see an order. */
interface SimOrder { out_trade_no: string; trade_type: string; state: string; code_url: string | null }

async function simOrders(app: AppServer): Promise<SimOrder[]> {
  const r = await fetch(`${app.baseUrl}/sandbox/sim/orders`);
  return ((await r.json()) as { orders: SimOrder[] }).orders;
}

async function decodeQr(page: Page): Promise<string> {
  const png = PNG.sync.read(await page.getByTestId('pay-qr').screenshot());
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  if (!code) throw new Error('QR did not decode');
  return code.data;
}

async function openShop(page: Page, url: string) {
  await page.goto(url);
  await page.locator('[data-testid="pay-panel"][data-ready="1"]').waitFor();
}

async function spbillIp(db: DbHandle, outTradeNo: string): Promise<string | undefined> {
  const row = await (db.db as any).selectFrom('sandbox_orders').select('params_json').where('out_trade_no', '=', outTradeNo).executeTakeFirst();
  return (JSON.parse(row.params_json) as Array<[string, string]>).find(([k]) => k === 'spbill_create_ip')?.[1];
}

describe('desktop buyer (Native QR)', () => {
  let app: AppServer;
  let browser: Browser;
  let db: DbHandle;
  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp(), launchBrowser()]);
    db = openDb(app.databaseUrl);
  });
  afterAll(async () => {
    await db?.close();
    await browser?.close();
    await app?.stop();
  });

  it('shows a server-rendered QR of the sandbox code_url; paying it flips the page to paid without a reload', async () => {
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await openShop(page, `${app.baseUrl}/shop/test-1fen`);
    expect(await page.getByTestId('pay-panel').getAttribute('data-mode')).toBe('native');
    // A marker on window survives only if the document is never reloaded.
    await page.evaluate(() => ((window as unknown as { __sameDocument: number }).__sameDocument = 1));
    await page.getByTestId('pay-button').click();
    await page.getByTestId('pay-qr').waitFor();
    expect(await page.locator('[data-testid="pay-qr"] svg').count()).toBe(1);
    await expect.poll(() => page.getByTestId('pay-amount').textContent()).toBe('¥0.01');
    expect(await page.getByTestId('qr-countdown').textContent()).toMatch(/^1[45]:\d\d$/);
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status')).toBe('pending');
    await page.screenshot({ path: screenshotPath('checkout-desktop-qr'), fullPage: true });
    const sim = await simOrders(app);
    expect(sim[0].trade_type).toBe('NATIVE');
    expect(await decodeQr(page)).toBe(sim[0].code_url);

    const pay = await fetch(`${app.baseUrl}/sandbox/sim/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code_url: sim[0].code_url }) });
    expect(pay.ok).toBe(true);
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('paid');
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: number }).__sameDocument)).toBe(1);
    await page.screenshot({ path: screenshotPath('checkout-desktop-paid'), fullPage: true });
    // The client bundle holds no QR library: the SVG came from the server.
    const scripts = await page.evaluate(() => Array.from(document.scripts).map((s) => s.src).filter(Boolean));
    for (const src of scripts) {
      const body = await (await fetch(src.replace(/^http:\/\/[^/]+/, app.baseUrl))).text();
      expect(body).not.toMatch(/qrcode|QRCode|toSJIS|ecLevel/);
    }
    await ctx.close();
  });

  it('an expired QR offers a fresh one with a new code_url', async () => {
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await openShop(page, `${app.baseUrl}/shop/green-tea`);
    await page.getByTestId('pay-button').click();
    await page.getByTestId('pay-qr').waitFor();
    const first = await decodeQr(page);
    const att = await db.db.selectFrom('payment_attempts').selectAll().where('code_url', '=', first).executeTakeFirstOrThrow();
    // Fast-forward the payment window: the page must notice from the server, not from its own clock.
    await db.db.updateTable('payment_attempts').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('out_trade_no', '=', att.out_trade_no).execute();
    await page.getByTestId('refresh-qr').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('qr-expired').isVisible()).toBe(true);
    await page.screenshot({ path: screenshotPath('checkout-desktop-expired'), fullPage: true });
    await page.getByTestId('refresh-qr').click();
    await page.getByTestId('pay-qr').waitFor();
    const second = await decodeQr(page);
    expect(second).not.toBe(first);
    expect((await simOrders(app))[0].code_url).toBe(second);
    await page.screenshot({ path: screenshotPath('checkout-desktop-fresh-qr'), fullPage: true });
    await ctx.close();
  });

  it('English copy when the browser prefers English; a phone browser pays by H5 (checkout-mweb.test.ts), not told to open WeChat', async () => {
    const en = await desktopContext(browser, 'en-US');
    const page = await en.newPage();
    await openShop(page, `${app.baseUrl}/shop/green-tea`);
    expect(await page.getByTestId('pay-button').textContent()).toBe('Show payment QR code');
    await en.close();
    const phone = await browser.newContext({ userAgent: PHONE_UA, viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const p2 = await phone.newPage();
    await openShop(p2, `${app.baseUrl}/shop/green-tea`);
    // WECHATPAY_MWEB=auto: H5 payment until WeChat says NO_AUTH (then open-in-WeChat + QR, checkout-mweb.test.ts).
    expect(await p2.getByTestId('open-in-wechat').count()).toBe(0);
    expect(await p2.getByTestId('pay-panel').getAttribute('data-mode')).toBe('mweb');
    await p2.screenshot({ path: screenshotPath('checkout-phone-browser'), fullPage: true });
    await phone.close();
  });

  it('WeChat Pay unreachable: a clear, retryable message, and the retry works', async () => {
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await openShop(page, `${app.baseUrl}/shop/mooncake-box`);
    await fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api: 'unifiedorder', fault: 'HTTP500', count: 3 }) });
    try {
      await page.getByTestId('pay-button').click();
      await expect.poll(async () => (await page.getByTestId('pay-notice').textContent())?.trim()).toBe('暂时无法连接微信支付，请稍后重试。');
      await page.screenshot({ path: screenshotPath('checkout-desktop-upstream'), fullPage: true });
    } finally {
      await fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'DELETE' });
    }
    await page.getByTestId('pay-button').click();
    await page.getByTestId('pay-qr').waitFor();
    expect(await page.getByTestId('pay-notice').count()).toBe(0);
    await ctx.close();
  });

  it('WeCom gets the QR with a note; the sandbox browser-mode cookie turns a desktop browser into WeChat', async () => {
    const wecom = await browser.newContext({ userAgent: `${PHONE_UA} MicroMessenger/8.0.49 wxwork/4.1.20`, viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const p1 = await wecom.newPage();
    await openShop(p1, `${app.baseUrl}/shop/green-tea`);
    expect(await p1.getByTestId('pay-panel').getAttribute('data-mode')).toBe('native');
    expect(await p1.getByTestId('wecom-note').textContent()).toContain('企业微信');
    await wecom.close();
    const sim = await desktopContext(browser);
    await sim.addCookies([{ name: 'sandbox_wechat_browser', value: '1', url: app.baseUrl }]);
    const p2 = await sim.newPage();
    await openShop(p2, `${app.baseUrl}/shop/green-tea`);
    expect(await p2.getByTestId('pay-panel').getAttribute('data-mode')).toBe('jsapi');
    await sim.close();
  });

  it('another buyer (or nobody) gets 404 for an order; its owner gets the page', async () => {
    const owner = await desktopContext(browser);
    const page = await owner.newPage();
    await openShop(page, `${app.baseUrl}/shop/coffee-beans`);
    await page.getByTestId('pay-button').click();
    await page.getByTestId('pay-qr').waitFor();
    const sim = await simOrders(app);
    const att = await db.db.selectFrom('payment_attempts').selectAll().where('out_trade_no', '=', sim[0].out_trade_no).executeTakeFirstOrThrow();
    const id = att.order_id;
    const mine = await page.request.get(`${app.baseUrl}/api/orders/${id}`);
    expect(mine.status()).toBe(200);
    expect(await mine.json()).toMatchObject({ id, status: 'pending', amountFen: 4500, confirming: true });
    const ownPage = await page.goto(`${app.baseUrl}/orders/${id}`);
    expect(ownPage!.status()).toBe(200);
    expect(await page.getByTestId('order-status').getAttribute('data-status')).toBe('pending');

    const stranger = await desktopContext(browser);
    // The stranger has a buyer session of their own (they started a payment elsewhere).
    const sp = await stranger.newPage();
    await openShop(sp, `${app.baseUrl}/shop/test-1fen`);
    await sp.getByTestId('pay-button').click();
    await sp.getByTestId('pay-qr').waitFor();
    expect((await sp.request.get(`${app.baseUrl}/api/orders/${id}`)).status()).toBe(404);
    const theirView = await sp.goto(`${app.baseUrl}/orders/${id}`);
    expect(theirView!.status()).toBe(404);
    expect(await sp.getByTestId('order-status').count()).toBe(0);
    expect(await sp.getByTestId('not-found').textContent()).toContain('没有找到这个商品或订单');
    await sp.screenshot({ path: screenshotPath('checkout-order-404'), fullPage: true });
    expect((await sp.goto(`${app.baseUrl}/shop/no-such-sku`))!.status()).toBe(404);
    expect((await fetch(`${app.baseUrl}/api/orders/${id}`)).status).toBe(404);
    // A merchant may read any order.
    const login = await fetch(`${app.baseUrl}/api/merchant/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'sandbox' }) });
    expect(login.ok).toBe(true);
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const asMerchant = await fetch(`${app.baseUrl}/api/orders/${id}`, { headers: { cookie } });
    expect(asMerchant.status).toBe(200);
    expect(await asMerchant.json()).toMatchObject({ id, amountFen: 4500 });
    expect((await fetch(`${app.baseUrl}/api/orders/o_doesnotexist000`)).status).toBe(404);
    await owner.close();
    await stranger.close();
  });

  it("the buyer's IP is the socket address: a client-sent X-Forwarded-For, one entry or several, changes nothing", async () => {
    const ips: Array<string | undefined> = [];
    const cases: Array<Record<string, string>> = [{}, { 'x-forwarded-for': '203.0.113.9' }, { 'x-forwarded-for': '1.1.1.1, 203.0.113.9' }];
    for (const headers of cases) {
      const ctx = await browser.newContext({ userAgent: DESKTOP_UA, extraHTTPHeaders: headers });
      const page = await ctx.newPage();
      await openShop(page, `${app.baseUrl}/shop/test-1fen`);
      await page.getByTestId('pay-button').click();
      await page.getByTestId('pay-qr').waitFor();
      ips.push(await spbillIp(db, (await simOrders(app))[0].out_trade_no));
      await ctx.close();
    }
    // Chromium reaches localhost over loopback, IPv4 or IPv6.
    expect(ips[0]).toMatch(/^(127\.0\.0\.1|::1)$/);
    expect(ips).toEqual([ips[0], ips[0], ips[0]]);
  });
});

/** The same desktop buyer with WECHATPAY_API_VERSION=v3: the QR is a v3 Native order's code_url, the notify signed JSON. */
describe.each(['sqlite', 'postgres'] as const)('desktop buyer (Native QR) on API v3, %s', (engine) => {
  let app: AppServer;
  let browser: Browser;
  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp({ engine, env: { WECHATPAY_API_VERSION: 'v3' } }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('the QR of a v3 Native order; paying it flips the page to paid through the v3 notify', async () => {
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await openShop(page, `${app.baseUrl}/shop/coffee-beans`);
    await page.getByTestId('pay-button').click();
    await page.getByTestId('pay-qr').waitFor();
    await expect.poll(() => page.getByTestId('pay-amount').textContent()).toBe('¥45.00');
    const sim = (await (await fetch(`${app.baseUrl}/sandbox/sim/orders`)).json()).orders[0];
    expect(sim).toMatchObject({ trade_type: 'NATIVE', sign_type: 'RSA', total_fee: 4500 });
    expect(await decodeQr(page)).toBe(sim.code_url);
    const pay = await fetch(`${app.baseUrl}/sandbox/sim/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code_url: sim.code_url }) });
    expect(pay.ok).toBe(true);
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('paid');
    await page.screenshot({ path: screenshotPath(`checkout-desktop-v3-paid-${engine}`), fullPage: true });
    // The sandbox delivered one JSON notify, acknowledged with 204 on the first attempt.
    const after = (await (await fetch(`${app.baseUrl}/sandbox/sim/orders?out_trade_no=${sim.out_trade_no}`)).json()).orders[0];
    expect(after.deliveries[0]).toMatchObject({ kind: 'pay', status: 'delivered', attempts: 1, log: [expect.objectContaining({ status: 204, accepted: true })] });
    await ctx.close();
  });
});
