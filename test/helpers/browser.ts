import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** A WeChat buyer's phone: Android WeChat 8.0 user agent (the bridge exists only where UA says MicroMessenger). */
export const WECHAT_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36 MicroMessenger/8.0.49.2600(0x28003133) NetType/WIFI Language/zh_CN';
export const DESKTOP_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
export const PHONE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36';

/** A phone browser outside WeChat (iPhone Safari): H5 payment (MWEB) when the merchant may. */
export const IPHONE_SAFARI_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** Debian's chromium through playwright-core; launch() makes its own fresh profile. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}

export function wechatContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ userAgent: WECHAT_UA, viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
}

/** An iPhone's Safari outside WeChat; `javaScriptEnabled: false` for a buyer with scripts off. */
export function phoneContext(browser: Browser, opts: { javaScriptEnabled?: boolean } = {}): Promise<BrowserContext> {
  return browser.newContext({ userAgent: IPHONE_SAFARI_UA, viewport: { width: 390, height: 844 }, locale: 'zh-CN', ...opts });
}

export function desktopContext(browser: Browser, locale = 'zh-CN'): Promise<BrowserContext> {
  return browser.newContext({ userAgent: DESKTOP_UA, viewport: { width: 1200, height: 900 }, locale });
}

/** Where screenshots go: test-results/screens/NAME.png (look at them). */
export function screenshotPath(name: string): string {
  const dir = path.resolve(__dirname, '../../test-results/screens');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}.png`);
}
