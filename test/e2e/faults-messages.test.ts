import jsQR from 'jsqr';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { desktopContext, launchBrowser, screenshotPath } from '../helpers/browser';
import { placeSandboxAttempt, sandboxPay, waitFor } from '../helpers/orders';
import { sandboxOrder, setFaults } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';

/**
 * What the buyer and the merchant see when WeChat's answer is lost (the sandbox's DROP_RESPONSE: the
 * call is done at WeChat, the connection cut before the answer): the buyer is told to try again and the
 * retry shows the QR of the one trade WeChat placed; the merchant is told a refund is not confirmed yet
 * (and not to refund again) until the reconciler settles it, and a failed close that the order stays
 * pending.
 */

const PASSWORD = 'faults-e2e-password';

async function decodeQr(page: Page): Promise<string> {
  const png = PNG.sync.read(await page.getByTestId('pay-qr').screenshot());
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  if (!code) throw new Error('QR did not decode');
  return code.data;
}

describe('lost answers from WeChat, in Chromium', () => {
  let app: AppServer;
  let browser: Browser;
  let h: DbHandle;
  beforeAll(async () => {
    [app, browser] = await Promise.all([
      // The merchant closes seconds after the order was placed: WeChat's 5-minute closeorder rule is off here.
      startApp({ env: { MERCHANT_PASSWORD: PASSWORD, RECONCILE_INTERVAL_MS: '300', RECONCILE_GRACE_MS: '1500', SANDBOX_CLOSE_MIN_AGE_S: '0' } }),
      launchBrowser(),
    ]);
    h = openDb(app.databaseUrl);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await app?.stop();
  });

  const sandboxOrdersSince = (since: string) =>
    (h.db as unknown as { selectFrom: (t: string) => any }).selectFrom('sandbox_orders').selectAll().where('created_at', '>=', since).execute() as Promise<Array<{ out_trade_no: string; code_url: string }>>;

  it('buyer: "try again", and the retry shows the QR of the trade WeChat already placed', async () => {
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await page.goto(`${app.baseUrl}/shop/coffee-beans`);
    await page.locator('[data-testid="pay-panel"][data-ready="1"]').waitFor();
    const t0 = new Date(Date.now() - 1).toISOString();
    await setFaults(app.baseUrl, { api: 'unifiedorder', fault: 'DROP_RESPONSE', count: 3 });
    await page.getByTestId('pay-button').click();
    await expect.poll(() => page.getByTestId('pay-notice').textContent()).toContain('暂时无法连接微信支付，请稍后重试');
    await page.screenshot({ path: screenshotPath('faults-buyer-no-answer'), fullPage: true });
    const placed = await sandboxOrdersSince(t0);
    expect(placed).toHaveLength(1);

    await page.getByTestId('pay-button').click();
    await page.getByTestId('pay-qr').waitFor();
    expect(await decodeQr(page)).toBe(placed[0].code_url);
    expect((await sandboxOrdersSince(t0)).map((o) => o.out_trade_no)).toEqual([placed[0].out_trade_no]);
    await sandboxPay(app.baseUrl, placed[0].code_url);
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('paid');
    await ctx.close();
  });

  it('merchant: a refund whose answer is lost is "not confirmed", held, then settled once; a failed close says the order stays pending', async () => {
    const paid = await placeSandboxAttempt(app, h.db, { amountFen: 300, sku: 'green-tea' });
    await sandboxPay(app.baseUrl, paid.codeUrl!);
    await waitFor(async () => (await h.db.selectFrom('orders').select('status').where('id', '=', paid.orderId).executeTakeFirstOrThrow()).status === 'paid', 20_000, 'the payment');
    const open = await placeSandboxAttempt(app, h.db, { amountFen: 300, sku: 'green-tea' });

    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${app.baseUrl}/merchant/login`);
    await page.getByTestId('merchant-password').fill(PASSWORD);
    await page.getByTestId('merchant-login').click();
    await page.waitForURL('**/merchant/orders');

    await page.goto(`${app.baseUrl}/merchant/orders/${paid.orderId}`);
    await setFaults(app.baseUrl, { fault: 'DROP_NOTIFY', count: 1 });
    await setFaults(app.baseUrl, { api: 'refund', fault: 'DROP_RESPONSE', count: 3 });
    await page.getByTestId('refund-amount').fill('3.00');
    await page.getByTestId('refund-submit').click();
    const result = page.getByTestId('refund-result');
    await expect.poll(() => result.textContent(), { timeout: 15_000 }).toContain('尚未得到微信确认');
    expect(await result.textContent()).toContain('请勿再次退款');
    expect(await result.getAttribute('data-ok')).toBe('true');
    await page.screenshot({ path: screenshotPath('faults-merchant-refund-unconfirmed'), fullPage: true });
    // The reconciler asks WeChat (refundquery), finds the one refund it made, and the page shows it done.
    await expect.poll(() => page.getByTestId('refund-row').first().getAttribute('data-status'), { timeout: 20_000 }).toBe('succeeded');
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status')).toBe('refunded');
    const atWechat = await sandboxOrder(app.baseUrl, paid.outTradeNo);
    expect(atWechat?.refunds).toHaveLength(1);
    expect(Number(atWechat?.refunded_fee)).toBe(300);

    await page.goto(`${app.baseUrl}/merchant/orders/${open.orderId}`);
    await setFaults(app.baseUrl, { api: 'closeorder', fault: 'DROP_RESPONSE', count: 3 });
    await page.getByTestId('close-order').click();
    const closed = page.getByTestId('close-result');
    await expect.poll(() => closed.getAttribute('data-ok'), { timeout: 15_000 }).toBe('false');
    expect(await closed.getAttribute('data-code')).toBe('NETWORK');
    expect(await closed.textContent()).toContain('关闭失败：没有得到微信的确认，订单仍为待支付，可以稍后再试');
    expect(await closed.textContent()).toContain('the order stays pending');
    await page.screenshot({ path: screenshotPath('faults-merchant-close-failed'), fullPage: true });
    await page.getByTestId('close-order').click();
    await expect.poll(() => closed.getAttribute('data-ok'), { timeout: 15_000 }).toBe('true');
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status')).toBe('closed');
    await ctx.close();
  });
});
