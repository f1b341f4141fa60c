import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type DbHandle } from '@/lib/db';
import { launchBrowser, phoneContext, screenshotPath } from '../helpers/browser';
import { clearFaults, sandboxOrders, sandboxPay, setFaults } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';
import { merchantCookie } from '../helpers/webhook-receiver';

/*
 * A phone browser outside WeChat (iPhone Safari, no MicroMessenger) pays with H5 payment (MWEB), end to
 * end, on API v2 and v3: the shop's pay button goes to WeChat's H5 cashier (the sandbox's stand-in at
 * /sandbox/h5pay), which checks the Referer's domain, pays or cancels, and returns to redirect_url: the
 * order page, which asks the server rather than assuming payment. WeChat's behaviour and its sources:
 * test/integration/wx-mweb.test.ts (mweb_url with redirect_url; 商家存在未配置的参数 for a page off the H5
 * domain; unsigned return_code=FAIL 商户号该产品权限未开通 (the sandbox default, as live) / 403 NO_AUTH for a merchant without H5 permission; "redirect_url地址不能
 * 自动执行查单操作，应让用户去点击按钮触发查单操作": the return page offers check again and pay again).
 */

async function openReady(page: Page, url: string) {
  await page.goto(url);
  await page.locator('[data-testid="pay-panel"][data-ready="1"]').waitFor();
}

describe.each(['v2', 'v3'] as const)('phone browser outside WeChat pays by H5 (MWEB) on API %s', (version) => {
  let app: AppServer;
  let browser: Browser;
  let apiKey: string;
  let db: DbHandle;
  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp({ env: { WECHATPAY_API_VERSION: version } }), launchBrowser()]);
    db = openDb(app.databaseUrl);
    const cookie = await merchantCookie(app.baseUrl);
    const r = await fetch(`${app.baseUrl}/api/merchant/api-keys`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'mweb e2e' }) });
    apiKey = ((await r.json()) as { key: string }).key;
  });
  afterAll(async () => {
    await db?.close();
    await browser?.close();
    await app?.stop();
  });

  it('shop link: pay → the H5 cashier → pay → back at the order page, paid once the server says so', async () => {
    const ctx = await phoneContext(browser);
    const page = await ctx.newPage();
    await openReady(page, `${app.baseUrl}/shop/green-tea`);
    expect(await page.getByTestId('pay-panel').getAttribute('data-mode')).toBe('mweb');
    // No "open in WeChat" any more: this phone can pay here.
    expect(await page.getByTestId('open-in-wechat').count()).toBe(0);
    await page.getByTestId('pay-button').click();
    await page.waitForURL(/\/sandbox\/h5pay\?prepay_id=wx\d+[0-9a-f]+&package=\d+&redirect_url=/);
    await page.getByTestId('sandbox-h5pay').waitFor();
    expect(await page.getByTestId('sandbox-h5pay-amount').textContent()).toMatch(/^¥\d+\.\d\d$/);
    await page.screenshot({ path: screenshotPath(`mweb-${version}-cashier`), fullPage: true });
    await page.getByTestId('sandbox-h5pay-pay').click();
    await page.waitForURL(/\/orders\/[A-Za-z0-9_-]+\?from=h5$/);
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('paid');
    expect(await page.getByTestId('h5-return').count()).toBe(0);
    await page.screenshot({ path: screenshotPath(`mweb-${version}-paid`), fullPage: true });
    // The sandbox placed an MWEB trade (v3: over /v3/pay/transactions/h5).
    const sim = (await (await fetch(`${app.baseUrl}/sandbox/sim/orders`)).json()) as { orders: Array<{ trade_type: string; state: string }> };
    expect(sim.orders[0]).toMatchObject({ trade_type: 'MWEB', state: 'SUCCESS' });
    await ctx.close();
  });

  it('cancel: the return page checks, says not paid, and pays again from there', async () => {
    const ctx = await phoneContext(browser);
    const page = await ctx.newPage();
    await openReady(page, `${app.baseUrl}/shop/coffee-beans`);
    await page.getByTestId('pay-button').click();
    await page.getByTestId('sandbox-h5pay').waitFor();
    await page.getByTestId('sandbox-h5pay-cancel').click();
    await page.waitForURL(/\/orders\/[A-Za-z0-9_-]+\?from=h5$/);
    // Not assumed either way: "checking" until a check made after the return answers, then "not paid".
    await page.getByTestId('h5-not-paid').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('order-status').getAttribute('data-status')).toBe('pending');
    expect(await page.getByTestId('h5-return').getAttribute('data-state')).toBe('not-paid');
    await page.screenshot({ path: screenshotPath(`mweb-${version}-not-paid`), fullPage: true });
    await page.getByTestId('h5-pay-again').click();
    await page.getByTestId('sandbox-h5pay').waitFor();
    await page.getByTestId('sandbox-h5pay-pay').click();
    await page.waitForURL(/\/orders\/.*from=h5/);
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('paid');
    await ctx.close();
  });

  /**
   * A phone buyer with scripts off taps pay on /shop/{sku}, reaches WeChat's cashier, goes back without
   * paying and taps "I have paid, check again" (the server checks, then offers pay again): the page
   * then shows not paid, and stays as rendered (nothing polls).
   */
  async function notPaidWithoutScripts(sku: string) {
    const ctx = await phoneContext(browser, { javaScriptEnabled: false });
    const page = await ctx.newPage();
    await page.goto(`${app.baseUrl}/shop/${sku}`);
    await page.getByTestId('pay-button').click();
    await page.waitForURL(/\/sandbox\/h5pay\?/);
    const cashier = new URL(page.url());
    const back = new URL(cashier.searchParams.get('redirect_url')!);
    await page.goto(`${back.href}&check=1`);
    await page.getByTestId('h5-not-paid').waitFor();
    return { ctx, page, cashier, back, orderId: back.pathname.split('/').pop()! };
  }

  it('"I have paid, check again" asks WeChat (orderquery): a payment whose notify never came still shows paid', async () => {
    // Scripts off: nothing polls, so only the buyer's "check again" (a link that makes the server check
    // before rendering) can find the payment. WeChat's H5 guide: the return proves nothing, "应让用户去点击
    // 按钮触发查单操作" (https://pay.weixin.qq.com/wiki/doc/api/H5.php?chapter=15_4).
    const { ctx, page, cashier, back, orderId } = await notPaidWithoutScripts('coffee-beans');
    // Paid at WeChat, and its notify dropped (the sandbox's DROP_NOTIFY fault): the app can only learn it by asking.
    await setFaults(app.baseUrl, { fault: 'DROP_NOTIFY', count: 1 });
    try {
      expect((await sandboxPay(app.baseUrl, { prepay_id: cashier.searchParams.get('prepay_id')! })).status).toBe(200);
    } finally {
      await clearFaults(app.baseUrl);
    }
    // orderquery runs at most once every 3 s per order, and a rate-limited check renders "checking" (its
    // check-again link then in <noscript>): the buyer taps check again until a check answers.
    const checkAgain = page.locator('[data-testid="h5-return"] a[href$="check=1"]');
    await expect.poll(async () => {
      if ((await checkAgain.count()) > 0) await checkAgain.first().click();
      return page.getByTestId('order-status').getAttribute('data-status');
    }, { timeout: 20_000, interval: 500 }).toBe('paid');
    expect(page.url()).toBe(`${back.href}&check=1`);
    expect(await page.getByTestId('h5-return').count()).toBe(0);
    expect((await db.db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirstOrThrow()).status).toBe('paid');
    // Applied from the query, not from a notify.
    const applied = await db.db.selectFrom('payment_events').select('source').where('order_id', '=', orderId).where('outcome', '=', 'applied').execute();
    expect(applied.map((e) => e.source)).toEqual(['query']);
    await ctx.close();
  });

  it('pay again on an order paid meanwhile: back at its order page, paid, with no new order or trade', async () => {
    // Scripts off, so the not-paid page stays as rendered while the trade is paid behind it (nothing polls).
    const { ctx, page, cashier, back, orderId } = await notPaidWithoutScripts('green-tea');
    // The buyer pays that trade in WeChat anyway (say from another tab); the notify marks the order paid.
    expect((await sandboxPay(app.baseUrl, { prepay_id: cashier.searchParams.get('prepay_id')! })).status).toBe(200);
    await expect.poll(async () => (await db.db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirst())?.status, { timeout: 20_000 }).toBe('paid');
    const trades = (await sandboxOrders(app.baseUrl)).orders.length;
    const attempts = (await db.db.selectFrom('payment_attempts').select('out_trade_no').where('order_id', '=', orderId).execute()).length;
    await page.getByTestId('h5-pay-again').click();
    // ALREADY_PAID carries the order: its return page shows the truth (before: the shop page, no message).
    await page.waitForURL(new RegExp(`/orders/${orderId}\\?from=h5$`));
    expect(await page.getByTestId('order-status').getAttribute('data-status')).toBe('paid');
    expect(await page.getByTestId('h5-return').count()).toBe(0);
    expect((await sandboxOrders(app.baseUrl)).orders.length).toBe(trades);
    expect((await db.db.selectFrom('payment_attempts').select('out_trade_no').where('order_id', '=', orderId).execute()).length).toBe(attempts);
    expect(await db.db.selectFrom('orders').select('id').where('buyer_id', '=', (await db.db.selectFrom('orders').select('buyer_id').where('id', '=', orderId).executeTakeFirstOrThrow()).buyer_id).execute()).toHaveLength(1);
    await ctx.close();
  });

  it('a page on a domain that is not the H5 domain is refused by the cashier with WeChat text', async () => {
    const ctx = await phoneContext(browser);
    const page = await ctx.newPage();
    // 127.0.0.1 is the same app, but not its registered H5 domain (localhost).
    await openReady(page, `${app.baseUrl.replace('localhost', '127.0.0.1')}/shop/green-tea`);
    await page.getByTestId('pay-button').click();
    await page.getByTestId('sandbox-h5pay-error').waitFor();
    expect(await page.getByTestId('sandbox-h5pay-error').getAttribute('data-code')).toBe('DOMAIN');
    expect(await page.getByTestId('sandbox-h5pay-error').textContent()).toContain('商家存在未配置的参数，请联系商家解决');
    await page.screenshot({ path: screenshotPath(`mweb-${version}-referer-refused`), fullPage: true });
    await ctx.close();
  });

  it('a checkout session at /pay/{id}: pay, cancel, not paid, pay again, paid', async () => {
    const created = await fetch(`${app.baseUrl}/api/v1/checkout/sessions`, {
      method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount_fen: 2300, description: 'H5 会话', merchant_reference: `mweb-${version}-${Date.now()}` }),
    });
    const session = (await created.json()) as { id: string; url: string };
    const ctx = await phoneContext(browser);
    const page = await ctx.newPage();
    await openReady(page, session.url);
    expect(await page.getByTestId('pay-panel').getAttribute('data-mode')).toBe('mweb');
    await page.getByTestId('pay-button').click();
    await page.getByTestId('sandbox-h5pay').waitFor();
    expect(await page.getByTestId('sandbox-h5pay-amount').textContent()).toBe('¥23.00');
    await page.getByTestId('sandbox-h5pay-cancel').click();
    await page.waitForURL(new RegExp(`/pay/${session.id}\\?from=h5$`));
    await page.getByTestId('h5-not-paid').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('order-status').getAttribute('data-status')).toBe('open');
    await page.screenshot({ path: screenshotPath(`mweb-${version}-session-not-paid`), fullPage: true });
    await page.getByTestId('h5-pay-again').click();
    await page.getByTestId('sandbox-h5pay').waitFor();
    await page.getByTestId('sandbox-h5pay-pay').click();
    await page.waitForURL(new RegExp(`/pay/${session.id}\\?from=h5$`));
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('paid');
    await ctx.close();
  });

  // Last: the app remembers the NO_AUTH (for a day), so H5 stays off for this app afterwards.
  it('a merchant without H5 permission: the tap that hits NO_AUTH gets open-in-WeChat and the QR; later pages start there', async () => {
    const off = await fetch(`${app.baseUrl}/sandbox/sim/h5`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ h5_pay: false }) });
    expect(off.ok).toBe(true);
    const ctx = await phoneContext(browser);
    const page = await ctx.newPage();
    await openReady(page, `${app.baseUrl}/shop/green-tea`);
    expect(await page.getByTestId('pay-panel').getAttribute('data-mode')).toBe('mweb');
    await page.getByTestId('pay-button').click();
    await page.getByTestId('pay-qr').waitFor();
    expect(await page.getByTestId('open-in-wechat').textContent()).toContain('请在微信中打开');
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status')).toBe('pending');
    await page.screenshot({ path: screenshotPath(`mweb-${version}-no-auth-fallback`), fullPage: true });
    const sim = (await (await fetch(`${app.baseUrl}/sandbox/sim/orders`)).json()) as { orders: Array<{ trade_type: string }> };
    expect(sim.orders[0].trade_type).toBe('NATIVE');
    // Remembered: the next phone page is today's open-in-WeChat with the QR button.
    const p2 = await ctx.newPage();
    await openReady(p2, `${app.baseUrl}/shop/coffee-beans`);
    expect(await p2.getByTestId('pay-panel').getAttribute('data-mode')).toBe('native');
    expect(await p2.getByTestId('open-in-wechat').count()).toBe(1);
    await ctx.close();
  });
});
