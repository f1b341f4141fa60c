import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desktopContext, launchBrowser, screenshotPath } from '../helpers/browser';
import { type AppServer, startApp } from '../helpers/server';

describe('home page in Chromium', () => {
  let app: AppServer;
  let browser: Browser;
  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('lists the catalog, each product linking to its shop page', async () => {
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await page.goto(`${app.baseUrl}/`);
    const products = page.getByTestId('product');
    expect(await products.count()).toBeGreaterThanOrEqual(3);
    const href = await page.locator('[data-sku="test-1fen"] a').getAttribute('href');
    expect(href).toBe('/shop/test-1fen');
    await expect.poll(() => page.locator('[data-sku="test-1fen"] .price').textContent()).toBe('¥0.01');
    await page.screenshot({ path: screenshotPath('home'), fullPage: true });
    await ctx.close();
  });
});
