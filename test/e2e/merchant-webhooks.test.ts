import type { Browser } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { desktopContext, launchBrowser, screenshotPath } from '../helpers/browser';
import { actAsInstanceOf } from '../helpers/in-process';
import { waitFor } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';
import { WEBHOOK_ENV } from '../helpers/webhook-receiver';

type Hit = { webhook_id: string; answered: number; body: string; headers: Record<string, string> };

/**
 * The merchant's Webhooks section in Chromium: add an endpoint pointed at the sandbox's receiver (the
 * secret shown once), watch a delivery fail once and succeed, Resend it, roll the secret, delete.
 */
describe('merchant Webhooks section in Chromium', () => {
  let app: AppServer;
  let browser: Browser;
  let h: DbHandle;
  let wh: typeof import('@/lib/checkout/webhooks');

  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp({ env: WEBHOOK_ENV }), launchBrowser()]);
    h = openDb(app.databaseUrl);
    actAsInstanceOf(app, h, WEBHOOK_ENV);
    wh = await import('@/lib/checkout/webhooks');
    wh.startWebhookDeliverer();
  });
  afterAll(async () => {
    wh?.stopWebhookDeliverer();
    await browser?.close();
    await h?.close();
    await app?.stop();
  });

  const hitsFor = async (id: string): Promise<Hit[]> =>
    ((await (await fetch(`${app.baseUrl}/sandbox/sim/webhooks`)).json()) as { hits: Hit[] }).hits.filter((x) => x.webhook_id === id);

  it('API keys: created in the page and shown once, usable at once, revoked with a click', async () => {
    const page = await (await desktopContext(browser, 'en-US')).newPage();
    await page.goto(`${app.baseUrl}/merchant/login?next=/merchant/developers`);
    await page.getByTestId('merchant-password').fill('sandbox');
    await page.getByTestId('merchant-login').click();
    await page.waitForURL('**/merchant/developers');
    await page.getByTestId('api-key-name').fill('order system');
    await page.getByTestId('api-key-create').click();
    const key = (await page.getByTestId('api-key-secret').textContent())!;
    expect(key).toMatch(/^sk_test_/);
    await page.screenshot({ path: screenshotPath('merchant-api-key-created'), fullPage: true });
    const list = () => fetch(`${app.baseUrl}/api/v1/checkout/sessions`, { headers: { authorization: `Bearer ${key}` } });
    expect((await list()).status).toBe(200);
    await page.reload();
    expect(await page.getByTestId('api-key-secret').count()).toBe(0);
    expect(await page.content()).not.toContain(key);
    const row = page.locator('[data-testid="api-key-row"][data-revoked="0"]').filter({ hasText: 'order system' });
    await row.getByTestId('api-key-revoke').click();
    await page.locator('[data-testid="api-key-row"][data-revoked="1"]').filter({ hasText: 'order system' }).waitFor();
    expect((await list()).status).toBe(401);
    await page.close();
  });

  it('adds an endpoint, shows its deliveries with attempts, resends, rolls the secret and deletes it', async () => {
    const page = await (await desktopContext(browser, 'en-US')).newPage();
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${app.baseUrl}/merchant/login?next=/merchant/developers`);
    await page.getByTestId('merchant-password').fill('sandbox');
    await page.getByTestId('merchant-login').click();
    await page.waitForURL('**/merchant/developers');
    await page.getByTestId('webhook-url').fill(`http://127.0.0.1:${app.port}/sandbox/webhooks/receive?fail_first=1`);
    await page.getByTestId('webhook-add-submit').click();
    const secret = (await page.getByTestId('webhook-secret').textContent())!;
    expect(secret).toMatch(/^whsec_/);
    await page.reload();
    await page.getByTestId('webhook-endpoint').waitFor();
    expect(await page.getByTestId('webhook-secret').count()).toBe(0);

    const { writeTransaction } = await import('@/lib/checkout/kernel');
    const id = await writeTransaction((trx) => wh.emitEvent(trx, { type: 'payment.duplicate', data: { object: { id: 'cs_e2e' } } }));
    await waitFor(async () => (await h.db.selectFrom('webhook_deliveries').select('status').where('event_id', '=', id).executeTakeFirstOrThrow()).status === 'delivered', 10_000, 'delivered');
    await page.reload();
    const row = page.locator(`[data-testid="webhook-delivery-row"][data-event-id="${id}"]`);
    expect(await row.getAttribute('data-status')).toBe('delivered');
    expect(await row.getAttribute('data-attempts')).toBe('2');
    expect(await row.getByTestId('webhook-delivery-code').textContent()).toBe('200');
    await row.locator('summary').click();
    expect(await row.getByTestId('webhook-attempt-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))).toEqual(['500', '200']);
    await page.screenshot({ path: screenshotPath('merchant-webhooks'), fullPage: true });

    await row.getByTestId('webhook-resend').click();
    expect(await page.getByTestId('webhook-resend-result').first().getAttribute('data-ok')).toBe('true');
    const hits = await waitFor(async () => ((await hitsFor(id)).length === 3 ? hitsFor(id) : undefined), 10_000, 'the resend to arrive');
    expect(hits.map((x) => x.answered)).toEqual([200, 200, 500]);
    expect(() => new Webhook(secret).verify(hits[0].body, hits[0].headers)).not.toThrow();

    await page.getByTestId('webhook-roll-secret').click();
    const rolled = (await page.getByTestId('webhook-roll-result').getByTestId('webhook-secret').textContent())!;
    expect(rolled).toMatch(/^whsec_/);
    expect(rolled).not.toBe(secret);

    await page.getByTestId('webhook-delete').click();
    await page.getByTestId('webhooks-none').waitFor();
    expect(await h.db.selectFrom('webhook_endpoints').select('disabled_at').execute()).toEqual([{ disabled_at: expect.any(String) }]);
  });
});
