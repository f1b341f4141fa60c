/**
 * The page budget rows of `npm run bench`: the buyer's checkout pages in Chromium (Debian's, through
 * playwright-core) under Lighthouse's mobile throttling applied through the DevTools protocol, with a
 * cold cache, and the JavaScript they ship against the lightest page of the same build.
 *
 * Throttling: Lighthouse's `mobileSlow4G` preset as DevTools applies it (lighthouse core/config/
 * constants.js: rttMs 150 × DEVTOOLS_RTT_ADJUSTMENT_FACTOR 3.75 = requestLatencyMs 562.5; 1.6 Mbit/s
 * × DEVTOOLS_THROUGHPUT_ADJUSTMENT_FACTOR 0.9 = downloadThroughputKbps 1474.56; upload 750 × 0.9 = 675
 * Kbit/s; cpuSlowdownMultiplier 4): Network.emulateNetworkConditions and Emulation.setCPUThrottlingRate.
 *
 * "Usable" is when a tap on the pay button does something: the button is in the document, enabled,
 * and either the panel has hydrated or the inline early-tap script that holds a tap until hydration
 * is installed, and the page has painted (first-contentful-paint): the later of the two. The pages
 * stream their whole shell at once, so the first paint holds the button when it is already there.
 * Hydration is reported beside it.
 */
import type { Browser, BrowserContext, CDPSession } from 'playwright-core';
import { launchBrowser, WECHAT_UA } from '../helpers/browser';

/** DevTools throttling of Lighthouse's mobile preset (see above), in CDP's units (bytes per second). */
export const MOBILE_THROTTLING = {
  latencyMs: 562.5,
  downloadBytesPerSec: (1474.56 * 1024) / 8,
  uploadBytesPerSec: (675 * 1024) / 8,
  cpuSlowdown: 4,
};

/** The budget the rows are checked against (docs/bench.md). */
export const PAGE_BUDGET = { usableMs: 2000, jsRatio: 1.1 };

/** One cold, throttled load: milliseconds from navigation start. */
export interface LoadTiming {
  usable: number;
  hydrated: number | null;
  fcp: number | null;
}

// Runs in the page before any of its own scripts (addInitScript): watches for the button and paints.
const PROBE = `(() => {
  const b = window.__budget = { ready: null, hydrated: null, fcp: null };
  const check = () => {
    const t = performance.now();
    const btn = document.querySelector('[data-testid="pay-button"]');
    const hydrated = document.querySelector('[data-testid="pay-panel"][data-ready="1"]');
    if (b.hydrated === null && hydrated) b.hydrated = t;
    if (b.ready === null && btn && !btn.disabled && (hydrated || window.__wxPayTap)) b.ready = t;
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
  document.addEventListener('DOMContentLoaded', check);
  new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.name === 'first-contentful-paint') b.fcp = e.startTime; }).observe({ type: 'paint', buffered: true });
})();`;

async function throttle(cdp: CDPSession) {
  await cdp.send('Network.enable');
  await cdp.send('Network.clearBrowserCache');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: MOBILE_THROTTLING.latencyMs,
    downloadThroughput: MOBILE_THROTTLING.downloadBytesPerSec, uploadThroughput: MOBILE_THROTTLING.uploadBytesPerSec,
  });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: MOBILE_THROTTLING.cpuSlowdown });
}

/** A WeChat phone whose buyer already has an openid (OAuth done once, unthrottled, before measuring). */
async function wechatBuyer(browser: Browser, url: string): Promise<BrowserContext> {
  const ctx = await browser.newContext({ userAgent: WECHAT_UA, viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const p = await ctx.newPage();
  await p.goto(url);
  await p.locator('[data-testid="pay-panel"][data-ready="1"]').waitFor({ timeout: 30_000 });
  await p.close();
  return ctx;
}

/** One cold load of `url` under throttling, in a fresh page of `ctx` (cache cleared and disabled). */
async function timedLoad(ctx: BrowserContext, url: string): Promise<LoadTiming> {
  const page = await ctx.newPage();
  try {
    await page.addInitScript(PROBE);
    const cdp = await ctx.newCDPSession(page);
    await throttle(cdp);
    await page.goto(url, { waitUntil: 'commit', timeout: 60_000 });
    await page.waitForFunction(() => {
      const b = (window as unknown as { __budget?: { ready: number | null; hydrated: number | null; fcp: number | null } }).__budget;
      return b && b.ready !== null && b.hydrated !== null && b.fcp !== null;
    }, undefined, { timeout: 60_000, polling: 100 });
    const b = await page.evaluate(() => (window as unknown as { __budget: { ready: number; hydrated: number; fcp: number } }).__budget);
    return { usable: Math.max(b.ready, b.fcp), hydrated: b.hydrated, fcp: b.fcp };
  } finally {
    await page.close();
  }
}

/** JavaScript of one cold load, in bytes on the wire (compressed, headers included) of Script responses. */
export interface ScriptBytes {
  /** Everything the page downloaded until the network went idle. */
  total: number;
  /** Scripts requested before the pay panel hydrated: what stands between the buyer and a live page. */
  beforeHydration: number;
}

/**
 * The JavaScript a cold load of `url` downloads, unthrottled (bytes do not depend on speed). A page
 * without a pay panel has no hydration mark: all of its scripts count as before hydration.
 */
async function scriptBytes(browser: Browser, url: string): Promise<ScriptBytes> {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  try {
    const page = await ctx.newPage();
    await page.addInitScript(PROBE);
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    const sentAt = new Map<string, number>();
    const scripts = new Map<string, number>();
    cdp.on('Network.requestWillBeSent', (e) => sentAt.set(e.requestId, e.wallTime * 1000));
    cdp.on('Network.responseReceived', (e) => {
      if (e.type === 'Script') scripts.set(e.requestId, 0);
    });
    cdp.on('Network.loadingFinished', (e) => {
      if (scripts.has(e.requestId)) scripts.set(e.requestId, e.encodedDataLength);
    });
    await page.goto(url, { waitUntil: 'networkidle', timeout: 60_000 });
    const hydratedAt = await page.evaluate(() => {
      const b = (window as unknown as { __budget?: { hydrated: number | null } }).__budget;
      return b?.hydrated == null ? null : performance.timeOrigin + b.hydrated;
    });
    let total = 0;
    let beforeHydration = 0;
    for (const [id, bytes] of scripts) {
      total += bytes;
      if (hydratedAt === null || (sentAt.get(id) ?? 0) <= hydratedAt) beforeHydration += bytes;
    }
    return { total, beforeHydration };
  } finally {
    await ctx.close();
  }
}

/** What the page rows need from the served app. */
export interface PageTargets {
  base: string;
  /** A shop link: /shop/[sku]. */
  shopPath: string;
  /** An open checkout session's pay page: /pay/{id}. */
  payPath: string;
  /** Pages to find the lightest one among (home, order page, merchant login, ...). */
  otherPaths: string[];
}

export interface PageMeasure {
  path: string;
  loads: LoadTiming[];
  js: ScriptBytes;
}

export interface PageBudgetResult {
  shop: PageMeasure;
  pay: PageMeasure;
  /** First contentful paint of the home page, cold and throttled: the reference. */
  home: LoadTiming[];
  /** The page of the build with the least JavaScript before hydration. */
  lightest: { path: string; js: ScriptBytes };
  jsByPath: Record<string, ScriptBytes>;
}

/** Cold, throttled home page loads: first contentful paint (it has no pay button). */
async function homeLoads(browser: Browser, base: string, n: number): Promise<LoadTiming[]> {
  const out: LoadTiming[] = [];
  for (let i = 0; i < n; i++) {
    const ctx = await browser.newContext({ userAgent: WECHAT_UA, viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    try {
      const page = await ctx.newPage();
      await page.addInitScript(PROBE);
      await throttle(await ctx.newCDPSession(page));
      await page.goto(`${base}/`, { waitUntil: 'commit', timeout: 60_000 });
      await page.waitForFunction(() => (window as unknown as { __budget?: { fcp: number | null } }).__budget?.fcp != null, undefined, { timeout: 60_000, polling: 100 });
      const fcp = await page.evaluate(() => (window as unknown as { __budget: { fcp: number } }).__budget.fcp);
      out.push({ usable: fcp, hydrated: null, fcp });
    } finally {
      await ctx.close();
    }
  }
  return out;
}

/** Measures both checkout pages `loads` times each, the home page as the reference, and every page's JavaScript. */
export async function measurePages(t: PageTargets, loads: number): Promise<PageBudgetResult> {
  const browser = await launchBrowser();
  try {
    const measure = async (path: string): Promise<PageMeasure> => {
      const ctx = await wechatBuyer(browser, `${t.base}${path}`);
      try {
        const timings: LoadTiming[] = [];
        for (let i = 0; i < loads; i++) timings.push(await timedLoad(ctx, `${t.base}${path}`));
        return { path, loads: timings, js: { total: 0, beforeHydration: 0 } };
      } finally {
        await ctx.close();
      }
    };
    const shop = await measure(t.shopPath);
    const pay = await measure(t.payPath);
    const home = await homeLoads(browser, t.base, loads);
    const jsByPath: Record<string, ScriptBytes> = {};
    for (const p of [t.shopPath, t.payPath, ...t.otherPaths]) jsByPath[p] = await scriptBytes(browser, `${t.base}${p}`);
    shop.js = jsByPath[t.shopPath];
    pay.js = jsByPath[t.payPath];
    const [lightPath, lightJs] = Object.entries(jsByPath).sort((a, b) => a[1].beforeHydration - b[1].beforeHydration)[0];
    return { shop, pay, home, lightest: { path: lightPath, js: lightJs }, jsByPath };
  } finally {
    await browser.close();
  }
}
