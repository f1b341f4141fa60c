import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { actionId, callAction } from '../helpers/actions';
import { jsonLines } from '../helpers/log-capture';
import { sandboxPay, waitFor } from '../helpers/orders';
import { delta, scrape } from '../helpers/prom';
import { sandboxOrders } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';

/**
 * GET /api/metrics over real HTTP, and the log lines of the same run: a desktop buyer's startPayment
 * (NATIVE unifiedorder at the sandbox), the sandbox paying it and delivering the notify, then a forged
 * notify the app refuses. The counters must have moved by exactly that, and the app's own lines must be
 * JSON carrying the order id, out_trade_no, outcome and duration.
 */
type Started = { ok: true; orderId: string; kind: 'native' } | { ok: false; code: string; message: string };

describe('metrics and logs of a paid order and a refused notify (SQLite, sandbox)', () => {
  let app: AppServer;
  let h: DbHandle;
  beforeAll(async () => {
    app = await startApp({ env: { RECONCILE_INTERVAL_MS: '0', LOG_LEVEL: 'debug' } });
    h = openDb(app.databaseUrl);
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });

  it('the counters moved by one paid order and one refused notify; each line is JSON with the fields', async () => {
    const before = await scrape(app.baseUrl);
    expect(before.get('process_cpu_seconds_total')).toBeGreaterThanOrEqual(0);

    const r = await callAction<Started>(app.baseUrl, '/shop/green-tea', actionId('app/shop/[sku]/actions.ts', 'startPayment'), [{ sku: 'green-tea', quantity: 1 }]);
    if (!r.result.ok) throw new Error(`startPayment refused: ${r.result.message}`);
    const orderId = r.result.orderId;
    const attempt = await h.db.selectFrom('payment_attempts').selectAll().where('order_id', '=', orderId).executeTakeFirstOrThrow();
    const sim = (await sandboxOrders(app.baseUrl, attempt.out_trade_no)).orders[0];
    await sandboxPay(app.baseUrl, sim.code_url);
    await waitFor(async () => (await h.db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirst())?.status === 'paid', 15_000, 'order paid by the notify');

    // A notify with a forged sign: refused (FAIL) and only counted.
    const forged = await fetch(`${app.baseUrl}/api/wechatpay/notify`, {
      method: 'POST', headers: { 'content-type': 'text/xml' },
      body: `<xml><return_code>SUCCESS</return_code><out_trade_no>${attempt.out_trade_no}</out_trade_no><sign>00000000000000000000000000000000</sign></xml>`,
    });
    expect(await forged.text()).toContain('<return_code><![CDATA[FAIL]]></return_code>');

    const after = await scrape(app.baseUrl);
    const moved = (s: string) => delta(before, after, s);
    expect(moved('wxcheckout_start_payments_total{outcome="native"}')).toBe(1);
    expect(moved('wxcheckout_start_payment_duration_seconds_count')).toBe(1);
    expect(moved('wxcheckout_wechat_api_calls_total{api="unifiedorder",result="success"}')).toBe(1);
    expect(moved('wxcheckout_wechat_api_duration_seconds_count{api="unifiedorder"}')).toBe(1);
    expect(moved('wxcheckout_notifies_total{kind="payment",outcome="applied"}')).toBe(1);
    expect(moved('wxcheckout_notifies_total{kind="payment",outcome="refused"}')).toBe(1);
    expect(moved('wxcheckout_notify_duration_seconds_count{kind="payment"}')).toBe(2);
    expect(moved('wxcheckout_payment_transitions_total{source="notify",outcome="applied"}')).toBe(1);
    expect(after.get('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    // SQLite's checkpoints run in their worker thread (lib/db/checkpointer.ts), which the paid order's commits woke.
    expect(after.get('wxcheckout_sqlite_checkpoint_worker')).toBe(1);
    expect(after.get('wxcheckout_sqlite_checkpoints_total')).toBeGreaterThan(0);
    expect(after.get('wxcheckout_sqlite_wal_restarts_waited_total')).toBeGreaterThanOrEqual(0);

    // The log: every line the app wrote is JSON (Next's start-up banner aside), with the fields.
    const lines = jsonLines(app.logs());
    const otn = attempt.out_trade_no;
    const byEvent = (event: string) => lines.filter((l) => l.event === event && (l.out_trade_no === otn || l.order_id === orderId));
    expect(byEvent('start_payment')).toEqual([expect.objectContaining({ level: 'info', order_id: orderId, out_trade_no: otn, outcome: 'native', duration_ms: expect.any(Number), time: expect.any(String) })]);
    expect(byEvent('payment_transition')).toEqual([expect.objectContaining({ source: 'notify', order_id: orderId, out_trade_no: otn, outcome: 'applied', duration_ms: expect.any(Number) })]);
    const notifies = lines.filter((l) => l.event === 'notify' && l.out_trade_no === otn);
    expect(notifies).toEqual([
      expect.objectContaining({ level: 'info', kind: 'payment', order_id: orderId, outcome: 'applied', duration_ms: expect.any(Number) }),
      // Unverified: anyone can send these, so they are logged at debug only (a flood must not flood the log).
      expect.objectContaining({ level: 'debug', kind: 'payment', order_id: null, outcome: 'refused', code: expect.any(String), duration_ms: expect.any(Number) }),
    ]);
    for (const l of app.logs().split('\n').filter((x) => x.startsWith('{'))) expect(() => JSON.parse(l)).not.toThrow();
    expect(lines.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
  });
});

const LIVE = {
  WECHAT_MODE: 'live', PUBLIC_BASE_URL: 'https://shop.example.com', WECHAT_APPID: 'wx1234567890abcdef', WECHAT_APP_SECRET: 's'.repeat(32),
  WECHATPAY_MCH_ID: '1900000109', WECHATPAY_API_KEY: 'k'.repeat(32), MERCHANT_PASSWORD: 'a-long-merchant-password', SESSION_SECRET: 'x'.repeat(40),
  RECONCILE_INTERVAL_MS: '0', WEBHOOK_POLL_MS: '0',
};

describe('GET /api/metrics in live mode', () => {
  const apps: AppServer[] = [];
  afterAll(async () => {
    for (const a of apps) await a.stop();
  });

  it('without METRICS_TOKEN: refused with 403 and the reason, whatever the request sends', async () => {
    const app = await startApp({ env: LIVE });
    apps.push(app);
    for (const headers of [{}, { authorization: 'Bearer anything-at-all-long-enough' }] as Array<Record<string, string>>) {
      const r = await fetch(`${app.baseUrl}/api/metrics`, { headers });
      expect(r.status).toBe(403);
      expect(await r.json()).toEqual({ error: { code: 'METRICS_TOKEN_MISSING', message: expect.stringContaining('METRICS_TOKEN') } });
    }
  });

  it('with METRICS_TOKEN: 401 without it or with a wrong one (same length or not), the Prometheus text with it', async () => {
    const token = 'scrape-token-0123456789abcdef';
    const app = await startApp({ env: { ...LIVE, METRICS_TOKEN: token } });
    apps.push(app);
    for (const auth of [undefined, `Bearer ${'x'.repeat(token.length)}`, 'Bearer short', `Basic ${token}`, token]) {
      const r = await fetch(`${app.baseUrl}/api/metrics`, { headers: auth ? { authorization: auth } : {} });
      expect(r.status, String(auth)).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect((await r.json()).error.code).toBe('UNAUTHORIZED');
    }
    const ok = await fetch(`${app.baseUrl}/api/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await ok.text()).toContain('# TYPE wxcheckout_notifies_total counter');
    // The token itself never reaches the log.
    expect(app.logs()).not.toContain(token);
  });
});
