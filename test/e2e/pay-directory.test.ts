import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshotPath, WECHAT_UA } from '../helpers/browser';
import { freePort } from '../helpers/ports';
import { type AppServer, startApp } from '../helpers/server';
import { merchantCookie } from '../helpers/webhook-receiver';

/**
 * The sandbox bridge holds JSAPI pages to the registered payment directories (支付授权目录) the way the
 * WeChat client does: the page's exact directory, the current URL on Android and the URL the page was
 * loaded at on iOS (a pushState does not move it). This app registers only `/pay/`, so a shop link is
 * refused with 当前页面的URL未注册 (rule and sources: test/unit/sandbox-pay-directory.test.ts).
 */
const IPHONE_WECHAT_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003129) NetType/WIFI Language/zh_CN';

describe('JSAPI payment directories in Chromium', () => {
  let app: AppServer;
  let browser: Browser;
  beforeAll(async () => {
    const port = await freePort();
    [app, browser] = await Promise.all([
      startApp({ port, env: { SANDBOX_PAY_DIRECTORIES: `http://localhost:${port}/pay/` } }),
      launchBrowser(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const phone = (ua: string): Promise<BrowserContext> => browser.newContext({ userAgent: ua, viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  async function open(page: Page, path: string) {
    await page.goto(`${app.baseUrl}${path}`, { waitUntil: 'domcontentloaded' });
    await page.waitForURL((u) => u.pathname === path, { waitUntil: 'domcontentloaded' });
    await page.locator('[data-testid="pay-panel"][data-ready="1"]').waitFor();
  }
  const notice = (page: Page) => page.getByTestId('pay-notice').textContent();

  it('Android: a shop page outside the directories is refused; the same page moved into /pay/ by pushState may pay', async () => {
    const ctx = await phone(WECHAT_UA);
    const page = await ctx.newPage();
    await open(page, '/shop/green-tea');
    await page.getByTestId('pay-button').click();
    await expect.poll(() => notice(page)).toContain(`当前页面的URL未注册：${app.baseUrl}/shop/green-tea`);
    expect(await page.getByTestId('sandbox-sheet').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('pay-directory-refused'), fullPage: true });

    await page.evaluate(() => history.pushState(null, '', '/pay/moved-here'));
    await page.getByTestId('pay-button').click();
    await page.getByTestId('sandbox-sheet-pay').waitFor({ timeout: 15_000 });
    await ctx.close();
  });

  it('iOS: the URL the page was loaded at is checked, so a pushState into /pay/ does not help', async () => {
    const ctx = await phone(IPHONE_WECHAT_UA);
    const page = await ctx.newPage();
    await open(page, '/shop/green-tea');
    await page.evaluate(() => history.pushState(null, '', '/pay/moved-here'));
    await page.getByTestId('pay-button').click();
    // The landing URL is the OAuth round's last redirect target, fragment included.
    await expect.poll(() => notice(page)).toMatch(new RegExp(`当前页面的URL未注册：${app.baseUrl}/shop/green-tea(#wechat_redirect)?（iOS 检查页面最初加载的 URL）`));
    expect(await page.getByTestId('sandbox-sheet').count()).toBe(0);
    await ctx.close();
  });

  it('iOS: a checkout session page loaded in /pay/ pays', async () => {
    const cookie = await merchantCookie(app.baseUrl);
    const { key } = (await (await fetch(`${app.baseUrl}/api/merchant/api-keys`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{"name":"dirs"}' })).json()) as { key: string };
    const s = (await (await fetch(`${app.baseUrl}/api/v1/checkout/sessions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount_fen: 100, description: 'iOS', merchant_reference: `IOS-${Date.now()}` }),
    })).json()) as { id: string };
    const ctx = await phone(IPHONE_WECHAT_UA);
    const page = await ctx.newPage();
    await open(page, `/pay/${s.id}`);
    await page.getByTestId('pay-button').click();
    await page.getByTestId('sandbox-sheet-pay').click({ timeout: 15_000 });
    await expect.poll(() => page.getByTestId('order-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('paid');
    await ctx.close();
  });

  it('the dashboard lists the registered directories', async () => {
    const html = await (await fetch(`${app.baseUrl}/sandbox`)).text();
    expect(html).toContain('data-testid="sandbox-pay-directory"');
    expect(html).toContain(`${app.baseUrl}/pay/`);
  });
});
