import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign, type SignType } from '@/lib/wechatpay/sign';
import { desktopContext, launchBrowser, screenshotPath, wechatContext } from '../helpers/browser';
import { type AppServer, startApp } from '../helpers/server';
import { defaultOpenid, notifyReceiver, outTradeNo, SBX, SUCCESS_REPLY, waitFor, wxPost } from '../helpers/sandbox';

const TINY = `<!doctype html><html><head><meta name="viewport" content="width=device-width"></head><body>
<h3>tiny merchant page</h3>
<script>
  window.__ready = 0;
  document.addEventListener('WeixinJSBridgeReady', function () { window.__ready++; });
  window.__pay = function (params) { return new Promise(function (res) { WeixinJSBridge.invoke('getBrandWCPayRequest', params, res); }); };
</script>
<script src="/sandbox/bridge.js" async></script></body></html>`;

describe('sandbox in Chromium: bridge.js payment sheet, scan page, dashboard', () => {
  let app: AppServer;
  let browser: Browser;
  let openid: string;
  const notify = { url: '', close: async () => {} };
  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp(), launchBrowser()]);
    openid = await defaultOpenid(app.baseUrl);
    const rx = await notifyReceiver(() => ({ status: 200, body: SUCCESS_REPLY }));
    notify.url = rx.url;
    notify.close = rx.close;
  });
  afterAll(async () => {
    await notify.close();
    await browser?.close();
    await app?.stop();
  });

  async function tinyPage(ctx: BrowserContext, preBridge = false): Promise<Page> {
    const page = await ctx.newPage();
    const html = preBridge ? TINY.replace('<script>', '<script>window.WeixinJSBridge = { mine: true };</script><script>') : TINY;
    // A merchant page in a registered payment directory (/shop/): the bridge refuses pages elsewhere.
    await page.route(`${app.baseUrl}/shop/tiny-pay`, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
    await page.goto(`${app.baseUrl}/shop/tiny-pay`);
    return page;
  }

  async function jsapiOrder(signType: SignType = 'MD5', totalFee = '1990') {
    const f = { body: '沙箱咖啡', out_trade_no: outTradeNo('J'), total_fee: totalFee, spbill_create_ip: '127.0.0.1', notify_url: notify.url, trade_type: 'JSAPI', openid };
    const r = await wxPost(app.baseUrl, 'unifiedorder', f, { signType });
    expect(r.fields.result_code, r.text).toBe('SUCCESS');
    const p: Record<string, string> = { appId: SBX.appid, timeStamp: String(Math.floor(Date.now() / 1000)), nonceStr: 'abcDEF123', package: `prepay_id=${r.fields.prepay_id}`, signType };
    p.paySign = sign(p, SBX.apiKey, signType);
    return { outTradeNo: f.out_trade_no, params: p };
  }

  it('defines WeixinJSBridge and fires WeixinJSBridgeReady asynchronously; leaves an existing bridge alone', async () => {
    const ctx = await wechatContext(browser);
    const page = await tinyPage(ctx);
    await page.waitForFunction(() => (window as any).__ready === 1);
    expect(await page.evaluate(() => typeof (window as any).WeixinJSBridge.invoke)).toBe('function');
    const other = await page.evaluate(() => new Promise((res) => (window as any).WeixinJSBridge.invoke('editAddress', {}, res)));
    expect(other).toMatchObject({ err_msg: 'editAddress:fail', err_desc: 'not supported in sandbox' });

    const real = await tinyPage(ctx, true);
    // goto waited for the load event, which an async script delays: bridge.js has run. Check it really
    // was served, then let a timer queued after the bridge's own setTimeout(0) fire: timers of equal delay
    // run in order, so a WeixinJSBridgeReady the bridge had scheduled would have been dispatched by then.
    await real.waitForLoadState('load');
    const bridgeStatus = await real.evaluate(() => {
      const e = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/sandbox/bridge.js')) as PerformanceResourceTiming | undefined;
      return e ? e.responseStatus : 'not loaded';
    });
    expect(bridgeStatus).toBe(200);
    await real.evaluate(() => new Promise((r) => setTimeout(r, 0)));
    expect(await real.evaluate(() => (window as any).WeixinJSBridge.mine)).toBe(true);
    expect(await real.evaluate(() => (window as any).WeixinJSBridge.__sandbox)).toBeUndefined();
    expect(await real.evaluate(() => (window as any).__ready)).toBe(0);
    await ctx.close();
  });

  it('shows the payment sheet; Pay answers get_brand_wcpay_request:ok and the order is paid', async () => {
    const ctx = await wechatContext(browser);
    const page = await tinyPage(ctx);
    await page.waitForFunction(() => (window as any).__ready === 1);
    const o = await jsapiOrder('HMAC-SHA256');
    const result = page.evaluate((p) => (window as any).__pay(p), o.params);
    await page.getByTestId('sandbox-sheet-pay').waitFor();
    expect(await page.getByTestId('sandbox-sheet-amount').textContent()).toBe('¥19.90');
    expect(await page.getByTestId('sandbox-sheet').textContent()).toContain(`沙箱商户 ${SBX.mchId}`);
    await page.screenshot({ path: screenshotPath('sandbox-bridge-sheet') });
    await page.getByTestId('sandbox-sheet-pay').click();
    expect(await result).toEqual({ err_msg: 'get_brand_wcpay_request:ok' });
    expect(await page.getByTestId('sandbox-sheet').count()).toBe(0);
    const q = await wxPost(app.baseUrl, 'orderquery', { out_trade_no: o.outTradeNo });
    expect(q.fields).toMatchObject({ trade_state: 'SUCCESS', openid });
    await ctx.close();
  });

  it('Cancel answers :cancel and leaves the order unpaid; wrong params answer :fail with the reason, no sheet', async () => {
    const ctx = await wechatContext(browser);
    const page = await tinyPage(ctx);
    await page.waitForFunction(() => (window as any).__ready === 1);
    const o = await jsapiOrder();
    const result = page.evaluate((p) => (window as any).__pay(p), o.params);
    await page.getByTestId('sandbox-sheet-cancel').click();
    expect(await result).toEqual({ err_msg: 'get_brand_wcpay_request:cancel' });
    expect((await wxPost(app.baseUrl, 'orderquery', { out_trade_no: o.outTradeNo })).fields.trade_state).toBe('NOTPAY');

    const wrongType: Record<string, string> = { ...o.params, signType: 'HMAC-SHA256' };
    wrongType.paySign = sign({ ...wrongType, paySign: undefined }, SBX.apiKey, 'HMAC-SHA256');
    const fail = (await page.evaluate((p) => (window as any).__pay(p), wrongType)) as { err_msg: string; err_desc: string };
    expect(fail.err_msg).toBe('get_brand_wcpay_request:fail');
    expect(fail.err_desc).toMatch(/signType/);
    const { timeStamp, ...rest } = o.params;
    const casing = (await page.evaluate((p) => (window as any).__pay(p), { ...rest, timestamp: timeStamp })) as { err_desc: string };
    expect(casing.err_desc).toMatch(/timeStamp/);
    expect(await page.getByTestId('sandbox-sheet').count()).toBe(0);
    await ctx.close();
  });

  it('the scan page pays a code_url as the current WeChat user', async () => {
    const f = { body: '扫码商品', out_trade_no: outTradeNo('S'), total_fee: '88', spbill_create_ip: '127.0.0.1', notify_url: notify.url, trade_type: 'NATIVE', product_id: 'p9' };
    const u = await wxPost(app.baseUrl, 'unifiedorder', f);
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await page.goto(`${app.baseUrl}/sandbox/scan?code_url=${encodeURIComponent(u.fields.code_url)}`);
    expect(await page.getByTestId('sandbox-scan-state').textContent()).toBe('NOTPAY');
    await page.screenshot({ path: screenshotPath('sandbox-scan') });
    await page.getByTestId('sandbox-scan-pay').click();
    await page.getByTestId('sandbox-scan-outcome').waitFor();
    expect(await page.getByTestId('sandbox-scan-state').textContent()).toBe('SUCCESS');
    expect((await wxPost(app.baseUrl, 'orderquery', { out_trade_no: f.out_trade_no })).fields).toMatchObject({ trade_state: 'SUCCESS', openid });
    await ctx.close();
  });

  it('the dashboard shows orders, deliveries and users; toggles WeChat-browser mode; creates a user', async () => {
    await waitFor(async () => {
      const r = await (await fetch(`${app.baseUrl}/sandbox/sim/orders`)).json();
      return r.orders.some((o: any) => o.deliveries.some((d: any) => d.status === 'delivered'));
    });
    // One merchant endpoint that keeps refusing: its delivery shows retries and the next retry time.
    const refusing = await notifyReceiver(() => ({ status: 200, body: '<xml><return_code>FAIL</return_code></xml>' }));
    const f = { body: '拒收通知', out_trade_no: outTradeNo('F'), total_fee: '300', spbill_create_ip: '127.0.0.1', notify_url: refusing.url, trade_type: 'NATIVE', product_id: 'p9' };
    const u = await wxPost(app.baseUrl, 'unifiedorder', f);
    await fetch(`${app.baseUrl}/sandbox/sim/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code_url: u.fields.code_url }) });
    await waitFor(async () => refusing.received.length >= 4);
    await refusing.close();
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await page.goto(`${app.baseUrl}/sandbox`);
    expect(await page.getByTestId('sandbox-order').count()).toBe(4);
    expect(await page.locator('[data-testid="sandbox-delivery"][data-status="pending"]').textContent()).toMatch(/下次重试/);
    expect(await page.locator('[data-testid="sandbox-order"][data-state="SUCCESS"]').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('[data-testid="sandbox-delivery"][data-status="delivered"]').count()).toBeGreaterThanOrEqual(1);
    expect(await page.getByTestId('sandbox-users').textContent()).toContain(openid);

    expect(await page.getByTestId('sandbox-browser-mode').getAttribute('data-on')).toBe('0');
    await page.getByTestId('sandbox-browser-toggle').click();
    await page.waitForURL(`${app.baseUrl}/sandbox`);
    expect(await page.getByTestId('sandbox-browser-mode').getAttribute('data-on')).toBe('1');
    const cookie = (await ctx.cookies()).find((c) => c.name === 'sandbox_wechat_browser');
    expect(cookie).toMatchObject({ value: '1', path: '/' });

    await page.getByTestId('sandbox-new-user-name').fill('小红');
    await page.getByTestId('sandbox-new-user').click();
    await page.waitForURL(/\/sandbox/);
    expect(await page.locator('[data-testid="sandbox-user"][data-current="1"]').textContent()).toContain('小红');
    await page.screenshot({ path: screenshotPath('sandbox-dashboard'), fullPage: true });

    await page.getByTestId('sandbox-browser-toggle').click();
    await page.waitForURL(`${app.baseUrl}/sandbox`);
    expect(await page.getByTestId('sandbox-browser-mode').getAttribute('data-on')).toBe('0');
    await ctx.close();

    const en = await desktopContext(browser, 'en-US');
    const enPage = await en.newPage();
    await enPage.goto(`${app.baseUrl}/sandbox`);
    expect(await enPage.locator('h1').textContent()).toBe('WeChat sandbox');
    await enPage.screenshot({ path: screenshotPath('sandbox-dashboard-en'), fullPage: true });
    await en.close();
  });
});
