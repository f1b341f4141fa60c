import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { desktopContext, launchBrowser, screenshotPath } from '../helpers/browser';
import { placeSandboxAttempt, sandboxPay, waitFor } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';

const PASSWORD = 'merchant-e2e-password';

/** 10,000 orders straight into the app's database: what a busy shop has after a few months. */
async function seedOrders(h: DbHandle, n: number) {
  const now = Date.now();
  const statuses = ['pending', 'paid', 'closed', 'refunded', 'partially_refunded'] as const;
  for (let i = 0; i < n; i += 500) {
    const orders = [];
    const attempts = [];
    for (let j = i; j < Math.min(n, i + 500); j++) {
      const created = new Date(now - 60_000 - j * 600_000).toISOString();
      const status = statuses[j % statuses.length];
      const paid = status !== 'pending' && status !== 'closed';
      const id = `o_bulk${String(j).padStart(5, '0')}`;
      orders.push({
        refunded_fen: status === 'refunded' ? 6800 : status === 'partially_refunded' ? 800 : 0,
        id, sku: 'green-tea', name: '明前龙井 50g', quantity: 1, amount_fen: 6800, status, buyer_openid: `oBulk${j % 900}`, buyer_id: `b${j}`,
        transaction_id: paid ? `4200BULK${String(j).padStart(6, '0')}` : null, created_at: created, paid_at: paid ? created : null, updated_at: created,
      });
      attempts.push({
        out_trade_no: `PBULK${String(j).padStart(8, '0')}`, order_id: id, trade_type: 'NATIVE' as const, amount_fen: 6800, sign_type: 'MD5',
        expires_at: created, status: paid ? ('paid' as const) : ('closed' as const), transaction_id: paid ? `4200BULK${String(j).padStart(6, '0')}` : null,
        created_at: created, updated_at: created,
      });
    }
    await h.db.insertInto('orders').values(orders).execute();
    await h.db.insertInto('payment_attempts').values(attempts).execute();
  }
}

describe('merchant pages in Chromium', () => {
  let app: AppServer;
  let browser: Browser;
  let h: DbHandle;
  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp({ env: { MERCHANT_PASSWORD: PASSWORD, RECONCILE_INTERVAL_MS: '0', SANDBOX_CLOSE_MIN_AGE_S: '0' } }), launchBrowser()]);
    h = openDb(app.databaseUrl);
    await seedOrders(h, 10_000);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await app?.stop();
  });

  async function logIn(page: Page, password: string) {
    await page.getByTestId('merchant-password').fill(password);
    await page.getByTestId('merchant-login').click();
  }

  it('refuses a wrong password, then finds a paid order by transaction_id and refunds part of it through the sandbox', async () => {
    // A real paid order: NATIVE trade placed at the sandbox, paid there, notify delivered to the app.
    const attempt = await placeSandboxAttempt(app, h.db, { amountFen: 200, sku: 'green-tea' });
    await sandboxPay(app.baseUrl, attempt.codeUrl!);
    const paid = await waitFor(async () => {
      const o = await h.db.selectFrom('orders').selectAll().where('id', '=', attempt.orderId).executeTakeFirst();
      return o?.status === 'paid' ? o : undefined;
    }, 20_000, 'the sandbox notify to mark the order paid');
    const txn = paid.transaction_id!;

    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await page.goto(`${app.baseUrl}/merchant/orders`);
    expect(new URL(page.url()).pathname).toBe('/merchant/login');
    await logIn(page, 'not-the-password');
    await expect.poll(() => page.getByTestId('login-error').textContent()).toContain('密码错误');
    await page.screenshot({ path: screenshotPath('merchant-login-refused') });

    await logIn(page, PASSWORD);
    await page.waitForURL('**/merchant/orders');
    expect(await page.getByTestId('order-row').count()).toBe(50);
    expect(await page.getByTestId('today-count').textContent()).toMatch(/^\d+$/);
    await page.screenshot({ path: screenshotPath('merchant-orders-10k') });

    await page.getByTestId('order-search').fill(txn);
    await page.getByTestId('order-search-submit').click();
    await page.waitForURL((u) => u.pathname === '/merchant/orders' && u.searchParams.get('q') === txn);
    const rows = page.getByTestId('order-row');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-order-id')).toBe(attempt.orderId);
    await rows.first().locator('a').click();
    await page.waitForURL(`**/merchant/orders/${attempt.orderId}`);

    const status = page.getByTestId('order-status');
    expect(await status.getAttribute('data-status')).toBe('paid');
    expect(await page.getByTestId('refund-amount').inputValue()).toBe('2.00');
    await page.screenshot({ path: screenshotPath('merchant-order-paid'), fullPage: true });

    // Bad amounts are refused with a message and change nothing.
    for (const [bad, says] of [['1.234', '两位小数'], ['0', '至少 0.01'], ['abc', '不是有效金额'], ['2.01', '超过剩余可退金额']]) {
      await page.getByTestId('refund-amount').fill(bad);
      await page.getByTestId('refund-submit').click();
      await expect.poll(() => page.getByTestId('refund-result').textContent()).toContain(says);
      expect(await page.getByTestId('refund-result').getAttribute('data-ok')).toBe('false');
      await expect.poll(() => page.getByTestId('refund-submit').isEnabled()).toBe(true);
    }
    expect(await h.db.selectFrom('refunds').selectAll().where('order_id', '=', attempt.orderId).execute()).toEqual([]);

    await page.getByTestId('refund-amount').fill('0.50');
    await page.getByTestId('refund-reason').fill('少发一件 partial');
    await page.getByTestId('refund-submit').click();
    await expect.poll(() => page.getByTestId('refund-result').getAttribute('data-ok'), { timeout: 15_000 }).toBe('true');
    // The refund notify from the sandbox settles it; the page refreshes itself until it has.
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 20_000 }).toBe('partially_refunded');
    await expect.poll(() => page.getByTestId('refund-row').first().getAttribute('data-status')).toBe('succeeded');
    await expect.poll(() => page.getByTestId('refund-amount').inputValue()).toBe('1.50');
    expect(await page.locator('[data-testid="event-row"][data-source="refund_notify"][data-outcome="applied"]').count()).toBe(1);
    await page.locator('[data-testid="event-row"][data-source="notify"] summary').first().click();
    await page.screenshot({ path: screenshotPath('merchant-order-partially-refunded'), fullPage: true });

    const refunds = await h.db.selectFrom('refunds').selectAll().where('order_id', '=', attempt.orderId).execute();
    expect(refunds).toEqual([expect.objectContaining({ amount_fen: 50, status: 'succeeded', reason: '少发一件 partial', origin: 'merchant' })]);
    const api = await page.request.get(`${app.baseUrl}/api/merchant/orders/${attempt.orderId}`);
    const detail = await api.json();
    expect(detail.order).toMatchObject({ id: attempt.orderId, status: 'partially_refunded', refundedFen: 50, refundableFen: 150 });
    expect(detail.events.map((e: { source: string }) => e.source)).toEqual(expect.arrayContaining(['notify', 'refund', 'refund_notify']));
    await ctx.close();
  });

  it('a buyer session gets nothing from merchant pages or APIs', async () => {
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await page.goto(`${app.baseUrl}/shop/test-1fen`);
    for (const path of ['/merchant/orders', '/merchant/products', '/merchant/orders/o_bulk00001']) {
      await page.goto(`${app.baseUrl}${path}`);
      expect(new URL(page.url()).pathname).toBe('/merchant/login');
    }
    for (const path of ['/api/merchant/orders', '/api/merchant/orders/o_bulk00001', '/api/merchant/orders/export', '/api/merchant/summary']) {
      expect((await page.request.get(`${app.baseUrl}${path}`)).status()).toBe(401);
    }
    await ctx.close();
  });

  it('stays quick with 10,000 orders: list pages, search kinds and the CSV answer from indexes', async () => {
    const ctx = await desktopContext(browser, 'en-US');
    const page = await ctx.newPage();
    await page.goto(`${app.baseUrl}/merchant/login`);
    await logIn(page, PASSWORD);
    await page.waitForURL('**/merchant/orders');
    const timed = async (path: string) => {
      const t = Date.now();
      const r = await page.request.get(`${app.baseUrl}${path}`);
      expect(r.status(), path).toBe(200);
      return { ms: Date.now() - t, body: path.includes('export') ? await r.text() : await r.json() };
    };
    for (const q of ['o_bulk04321', 'PBULK00004321', '4200BULK004321', 'oBulk721']) {
      const { ms, body } = await timed(`/api/merchant/orders?q=${q}`);
      expect(body.orders.some((o: { id: string }) => o.id === 'o_bulk04321'), q).toBe(true);
      expect(ms, q).toBeLessThan(1500);
    }
    const first = await timed('/api/merchant/orders?status=paid');
    expect(first.body.orders.length).toBe(50);
    expect(first.ms).toBeLessThan(1500);
    const deep = await timed(`/api/merchant/orders?status=paid&cursor=${first.body.nextCursor}`);
    const key = (o: { createdAt: string; id: string }) => `${o.createdAt}|${o.id}`;
    expect(key(deep.body.orders[0]) < key(first.body.orders[49])).toBe(true);
    expect(deep.ms).toBeLessThan(1500);
    const csv = await timed('/api/merchant/orders/export?status=closed');
    const closed = await h.db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'closed').executeTakeFirstOrThrow();
    expect(Number(closed.n)).toBeGreaterThanOrEqual(2000);
    expect(csv.body.trim().split('\r\n').length).toBe(Number(closed.n) + 1);
    expect(csv.ms).toBeLessThan(10_000);

    // The list in the browser: load more pages, filter by status, in English.
    await page.getByTestId('load-more').click();
    await expect.poll(() => page.getByTestId('order-row').count()).toBe(100);
    await page.selectOption('select[name="status"]', 'refunded');
    await page.getByTestId('order-search-submit').click();
    await page.waitForURL((u) => u.searchParams.get('status') === 'refunded');
    await expect.poll(() => page.locator('[data-testid="order-row"]:not([data-status="refunded"])').count()).toBe(0);
    expect(await page.getByTestId('order-row').count()).toBe(50);
    await page.screenshot({ path: screenshotPath('merchant-orders-refunded-en') });
    await ctx.close();
  });

  it('products: shop link and QR poster, add, edit, deactivate (gone from the shop) and reactivate', async () => {
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    await page.goto(`${app.baseUrl}/merchant/products`);
    await logIn(page, PASSWORD);
    await page.waitForURL('**/merchant/products');
    await page.getByTestId('new-sku').fill('tea-cup');
    await page.getByTestId('new-name').fill('青瓷茶杯');
    await page.getByTestId('new-price').fill('12.3');
    await page.getByTestId('new-submit').click();
    const card = page.locator('[data-testid="merchant-product"][data-sku="tea-cup"]');
    await card.waitFor();
    expect(await card.getByTestId('shop-link').getAttribute('href')).toBe(`${new URL(app.baseUrl).origin}/shop/tea-cup`);
    await expect.poll(() => card.getByTestId('product-qr').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(100);
    expect((await h.db.selectFrom('products').selectAll().where('sku', '=', 'tea-cup').executeTakeFirstOrThrow()).price_fen).toBe(1230);

    // A duplicate sku and a bad price are refused.
    await page.getByTestId('new-sku').fill('tea-cup');
    await page.getByTestId('new-name').fill('x');
    await page.getByTestId('new-price').fill('1.999');
    await page.getByTestId('new-submit').click();
    await expect.poll(() => page.locator('[data-testid="add-product"] [data-testid="product-result"]').getAttribute('data-ok')).toBe('false');

    await card.getByTestId('edit-price').fill('15');
    await card.getByTestId('edit-submit').click();
    await expect.poll(async () => (await h.db.selectFrom('products').select('price_fen').where('sku', '=', 'tea-cup').executeTakeFirstOrThrow()).price_fen).toBe(1500);

    expect(await (await fetch(`${app.baseUrl}/`)).text()).toContain('/shop/tea-cup');
    await card.getByTestId('toggle-active').click();
    await expect.poll(() => card.getAttribute('data-active')).toBe('0');
    expect(await (await fetch(`${app.baseUrl}/`)).text()).not.toContain('/shop/tea-cup');
    expect((await fetch(`${app.baseUrl}/shop/tea-cup`)).status).toBe(404);
    await page.screenshot({ path: screenshotPath('merchant-products'), fullPage: true });
    await card.getByTestId('toggle-active').click();
    await expect.poll(() => card.getAttribute('data-active')).toBe('1');
    expect(await (await fetch(`${app.baseUrl}/`)).text()).toContain('/shop/tea-cup');
    // The SVG poster as a browser draws it.
    await page.goto(`${app.baseUrl}/api/merchant/products/tea-cup/qr?format=svg`);
    await page.screenshot({ path: screenshotPath('merchant-qr-poster') });
    await ctx.close();
  });

  it('close an unpaid order, sync a payment whose notify was lost, and flag a duplicate payment', async () => {
    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${app.baseUrl}/merchant/login`);
    await logIn(page, PASSWORD);
    await page.waitForURL('**/merchant/orders');
    const status = page.getByTestId('order-status');

    const unpaid = await placeSandboxAttempt(app, h.db, { amountFen: 300, sku: 'green-tea' });
    await page.goto(`${app.baseUrl}/merchant/orders/${unpaid.orderId}`);
    expect(await status.getAttribute('data-status')).toBe('pending');
    await page.getByTestId('close-order').click();
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 15_000 }).toBe('closed');
    expect(await page.getByTestId('close-result').getAttribute('data-ok')).toBe('true');

    // The buyer pays but WeChat's notify never arrives: "sync with WeChat" asks orderquery.
    const lost = await placeSandboxAttempt(app, h.db, { amountFen: 400, sku: 'green-tea' });
    const fault = await fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault: 'DROP_NOTIFY', count: 1 }) });
    expect(fault.ok).toBe(true);
    await sandboxPay(app.baseUrl, lost.codeUrl!);
    await page.goto(`${app.baseUrl}/merchant/orders/${lost.orderId}`);
    expect(await status.getAttribute('data-status')).toBe('pending');
    await page.getByTestId('sync-order').click();
    await expect.poll(() => page.getByTestId('sync-result').textContent(), { timeout: 15_000 }).toContain('SUCCESS');
    await expect.poll(() => status.getAttribute('data-status')).toBe('paid');
    expect(await page.locator('[data-testid="event-row"][data-source="merchant"][data-outcome="applied"]').count()).toBeGreaterThanOrEqual(1);

    // Paid twice (QR, then again on a second attempt): the order stands out and the extra payment goes back.
    const first = await placeSandboxAttempt(app, h.db, { amountFen: 500, sku: 'green-tea' });
    const second = await placeSandboxAttempt(app, h.db, { orderId: first.orderId });
    await sandboxPay(app.baseUrl, first.codeUrl!);
    await waitFor(async () => (await h.db.selectFrom('orders').select('status').where('id', '=', first.orderId).executeTakeFirst())?.status === 'paid', 15_000, 'first payment');
    await sandboxPay(app.baseUrl, second.codeUrl!);
    await waitFor(async () => (await h.db.selectFrom('orders').select('duplicate_paid').where('id', '=', first.orderId).executeTakeFirst())?.duplicate_paid === 1, 15_000, 'duplicate flag');
    await page.goto(`${app.baseUrl}/merchant/orders/${first.orderId}`);
    expect(await page.getByTestId('duplicate-note').isVisible()).toBe(true);
    expect(await status.getAttribute('data-status')).toBe('paid');
    expect(await page.getByTestId('refund-amount').inputValue()).toBe('5.00');
    await expect.poll(() => page.locator('[data-testid="refund-row"][data-status="succeeded"]').count(), { timeout: 15_000 }).toBe(1);
    await page.screenshot({ path: screenshotPath('merchant-order-duplicate'), fullPage: true });
    await page.goto(`${app.baseUrl}/merchant/orders?q=${first.orderId}`);
    expect(await page.locator('[data-testid="order-row"] [data-testid="duplicate-badge"]').count()).toBe(1);

    // Actions check the session themselves: a page left open after logout cannot refund.
    await page.goto(`${app.baseUrl}/merchant/orders/${first.orderId}`);
    expect((await page.request.delete(`${app.baseUrl}/api/merchant/session`)).status()).toBe(200);
    await page.getByTestId('refund-amount').fill('1.00');
    await page.getByTestId('refund-submit').click();
    await expect.poll(() => page.getByTestId('refund-result').getAttribute('data-code')).toBe('UNAUTHORIZED');
    const refunds = await h.db.selectFrom('refunds').select('origin').where('order_id', '=', first.orderId).execute();
    expect(refunds).toEqual([{ origin: 'duplicate' }]);
    await ctx.close();
  });
});

/**
 * The merchant's side on API v3, on both databases: a refund from the order page completes with its
 * REFUND.SUCCESS notify, and close and "sync with WeChat" go through v3's close and query.
 */
describe.each(['sqlite', 'postgres'] as const)('merchant pages on API v3, %s', (engine) => {
  let app: AppServer;
  let browser: Browser;
  let h: DbHandle;
  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp({ engine, env: { MERCHANT_PASSWORD: PASSWORD, RECONCILE_INTERVAL_MS: '0', WECHATPAY_API_VERSION: 'v3' } }), launchBrowser()]);
    h = openDb(app.databaseUrl);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await app?.stop();
  });
  const orderStatus = async (id: string) => (await h.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirst())?.status;

  it('refund with its v3 notify, close, and sync a payment whose notify was lost', async () => {
    const paid = await placeSandboxAttempt(app, h.db, { amountFen: 200, sku: 'green-tea', protocol: 'v3' });
    await sandboxPay(app.baseUrl, paid.codeUrl!);
    await waitFor(async () => (await orderStatus(paid.orderId)) === 'paid', 20_000, 'the v3 notify to mark the order paid');

    const ctx = await desktopContext(browser);
    const page = await ctx.newPage();
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${app.baseUrl}/merchant/login`);
    await page.getByTestId('merchant-password').fill(PASSWORD);
    await page.getByTestId('merchant-login').click();
    await page.waitForURL('**/merchant/orders');
    const status = page.getByTestId('order-status');

    await page.goto(`${app.baseUrl}/merchant/orders/${paid.orderId}`);
    expect(await status.getAttribute('data-status')).toBe('paid');
    // No refund blocker: v3 refunds need no apiclient_cert.p12.
    expect(await page.getByTestId('refund-blocker').count()).toBe(0);
    await page.getByTestId('refund-amount').fill('0.50');
    await page.getByTestId('refund-submit').click();
    await expect.poll(() => page.getByTestId('refund-result').getAttribute('data-ok'), { timeout: 15_000 }).toBe('true');
    // The REFUND.SUCCESS notify settles it (waited for in the database: a loaded machine may be slow).
    await waitFor(async () => (await orderStatus(paid.orderId)) === 'partially_refunded', 60_000, 'the v3 refund notify');
    await page.reload();
    expect(await status.getAttribute('data-status')).toBe('partially_refunded');
    expect(await page.getByTestId('refund-row').first().getAttribute('data-status')).toBe('succeeded');
    expect(await page.locator('[data-testid="event-row"][data-source="refund_notify"][data-outcome="applied"]').count()).toBe(1);
    await page.screenshot({ path: screenshotPath(`merchant-v3-refunded-${engine}`), fullPage: true });
    const sim = (await (await fetch(`${app.baseUrl}/sandbox/sim/orders?out_trade_no=${paid.outTradeNo}`)).json()).orders[0];
    expect(sim.deliveries.map((d: { kind: string; status: string }) => `${d.kind}/${d.status}`).sort()).toEqual(['pay/delivered', 'refund/delivered']);

    const unpaid = await placeSandboxAttempt(app, h.db, { amountFen: 300, sku: 'green-tea', protocol: 'v3' });
    await page.goto(`${app.baseUrl}/merchant/orders/${unpaid.orderId}`);
    await page.getByTestId('close-order').click();
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 15_000 }).toBe('closed');
    expect((await (await fetch(`${app.baseUrl}/sandbox/sim/orders?out_trade_no=${unpaid.outTradeNo}`)).json()).orders[0].state).toBe('CLOSED');

    const lost = await placeSandboxAttempt(app, h.db, { amountFen: 400, sku: 'green-tea', protocol: 'v3' });
    expect((await fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault: 'DROP_NOTIFY', count: 1 }) })).ok).toBe(true);
    await sandboxPay(app.baseUrl, lost.codeUrl!);
    await page.goto(`${app.baseUrl}/merchant/orders/${lost.orderId}`);
    expect(await status.getAttribute('data-status')).toBe('pending');
    await page.getByTestId('sync-order').click();
    await expect.poll(() => page.getByTestId('sync-result').textContent(), { timeout: 15_000 }).toContain('SUCCESS');
    await expect.poll(() => status.getAttribute('data-status')).toBe('paid');
    await ctx.close();
  });
});
