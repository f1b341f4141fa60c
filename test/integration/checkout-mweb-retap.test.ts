import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDb } from '@/lib/db';
import { actAsInstanceOf, INSTANCE_ENV } from '../helpers/in-process';
import { type AppServer, startApp } from '../helpers/server';

/*
 * startPayment for a phone browser (mode mweb) in this process, as a second instance of a real app
 * whose sandbox plays WeChat. mweb_url lives 5 minutes ("mweb_url的有效期为5分钟", the H5 unifiedorder
 * page; an older one opens 支付请求已失效，请重新发起支付): a re-tap within 4 minutes gets the same URL
 * with no new unifiedorder; later, a fresh trade (new out_trade_no), never the stale URL. NO_AUTH is
 * remembered in the shared database for every instance (docs/configuration.md, WECHATPAY_MWEB).
 */
type Payments = typeof import('@/lib/checkout/payments');
type Db = typeof import('@/lib/db');

describe('H5 payment (MWEB) re-taps and NO_AUTH, in process', () => {
  let app: AppServer;
  let payments: Payments;
  let dbm: Db;
  const buyer = () => `b_mweb${Math.random().toString(36).slice(2, 14)}`;
  const sim = async () => ((await (await fetch(`${app.baseUrl}/sandbox/sim/orders`)).json()) as { orders: Array<{ out_trade_no: string; trade_type: string }> }).orders;

  beforeAll(async () => {
    for (const k of [...INSTANCE_ENV, 'SANDBOX_MCH_BASE_URL', 'ORDER_TTL_MINUTES']) delete process.env[k];
    app = await startApp();
    actAsInstanceOf(app, initDb(app.databaseUrl), { SANDBOX_MCH_BASE_URL: `${app.baseUrl}/sandbox/mch`, ORDER_TTL_MINUTES: '15' });
    payments = await import('@/lib/checkout/payments');
    dbm = await import('@/lib/db');
  });
  afterAll(async () => {
    await fetch(`${app.baseUrl}/sandbox/sim/h5`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ h5_pay: true, refusal: 'RETURN_FAIL' }) });
    await (await dbm?.getDbHandle())?.close();
    await app?.stop();
  });

  it('reuses a fresh mweb_url, places a new trade once it is 4 minutes old, and returns to the order page', async () => {
    const input = { sku: 'green-tea', quantity: 1, buyerId: buyer(), mode: 'mweb' as const, clientIp: '203.0.113.7' };
    const now = Date.now();
    const first = await payments.startPayment(input, now);
    if (!first.ok || first.kind !== 'mweb') throw new Error(JSON.stringify(first));
    expect(first.payUrl).toMatch(/\/sandbox\/h5pay\?prepay_id=wx\w+&package=\d+&redirect_url=/);
    expect(decodeURIComponent(first.payUrl.split('redirect_url=')[1])).toBe(`${app.baseUrl}/orders/${first.orderId}?from=h5`);
    expect(Date.parse(first.expiresAt) - Date.now()).toBeGreaterThan(4 * 60_000);
    const placed = (await sim()).length;

    const soon = await payments.startPayment({ ...input, orderId: first.orderId }, now + 3 * 60_000);
    expect(soon).toMatchObject({ ok: true, kind: 'mweb', orderId: first.orderId, payUrl: first.payUrl });
    expect((await sim()).length).toBe(placed);

    const late = await payments.startPayment({ ...input, orderId: first.orderId }, now + 4.5 * 60_000);
    if (!late.ok || late.kind !== 'mweb') throw new Error(JSON.stringify(late));
    expect(late.orderId).toBe(first.orderId);
    expect(late.payUrl).not.toBe(first.payUrl);
    const orders = await sim();
    expect(orders.length).toBe(placed + 1);
    expect(orders[0].trade_type).toBe('MWEB');
    const db = await dbm.getDb();
    const attempts = await db.selectFrom('payment_attempts').selectAll().where('order_id', '=', first.orderId).execute();
    expect(attempts.map((a) => a.trade_type)).toEqual(['MWEB', 'MWEB']);
    expect(new Set(attempts.map((a) => a.out_trade_no)).size).toBe(2);
  });

  // WeChat's cashier opens an mweb_url only from the order's spbill_create_ip (网络环境未能通过安全验证，请稍后再试,
  // the H5 guide's 常见错误; test/integration/wx-mweb.test.ts): a buyer whose network changed needs a fresh trade.
  it('reuses a fresh mweb_url only for the same buyer IP: another network places a fresh trade', async () => {
    const input = { sku: 'green-tea', quantity: 2, buyerId: buyer(), mode: 'mweb' as const, clientIp: '203.0.113.7' };
    const now = Date.now();
    const first = await payments.startPayment(input, now);
    if (!first.ok || first.kind !== 'mweb') throw new Error(JSON.stringify(first));
    const placed = (await sim()).length;
    // Same IP a minute later: the same URL, no unifiedorder.
    expect(await payments.startPayment({ ...input, orderId: first.orderId }, now + 60_000)).toMatchObject({ kind: 'mweb', payUrl: first.payUrl });
    expect((await sim()).length).toBe(placed);
    // The phone moved from Wi-Fi to mobile data: a fresh trade for the new IP, the same order.
    const moved = await payments.startPayment({ ...input, orderId: first.orderId, clientIp: '198.51.100.9' }, now + 90_000);
    if (!moved.ok || moved.kind !== 'mweb') throw new Error(JSON.stringify(moved));
    expect(moved.orderId).toBe(first.orderId);
    expect(moved.payUrl).not.toBe(first.payUrl);
    expect((await sim()).length).toBe(placed + 1);
    const db = await dbm.getDb();
    const attempts = await db.selectFrom('payment_attempts').select(['out_trade_no', 'client_ip']).where('order_id', '=', first.orderId).orderBy('created_at').execute();
    expect(attempts.map((a) => a.client_ip)).toEqual(['203.0.113.7', '198.51.100.9']);
    // The sandbox's cashier holds each URL to its own IP.
    const referer = `${app.baseUrl}/shop/green-tea`;
    const open = async (url: string, ip: string) => (await fetch(url, { headers: { referer, 'x-forwarded-for': ip }, redirect: 'manual' })).text();
    expect(await open(moved.payUrl, '203.0.113.7')).toContain('网络环境未能通过安全验证，请稍后再试');
    expect(await open(moved.payUrl, '198.51.100.9')).toContain('data-testid="sandbox-h5pay"');
    // Back on the new network: that URL again.
    expect(await payments.startPayment({ ...input, orderId: first.orderId, clientIp: '198.51.100.9' }, now + 100_000)).toMatchObject({ kind: 'mweb', payUrl: moved.payUrl });
  });

  // Both shapes of "no H5 permission" (test/unit/checkout/no-auth.test.ts has the sources): live v2's unsigned
  // return_code=FAIL 商户号该产品权限未开通 (the sandbox's default) and the documented signed err_code NOAUTH.
  it.each(['RETURN_FAIL', 'NOAUTH'] as const)('NO_AUTH (%s): the same tap comes back as a QR for the same order, and every instance stops offering H5', async (refusal) => {
    await (await dbm.getDb()).deleteFrom('pay_capabilities').execute();
    await fetch(`${app.baseUrl}/sandbox/sim/h5`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ h5_pay: false, refusal }) });
    expect(await payments.mwebOffered()).toBe(true);
    const r = await payments.startPayment({ sku: 'coffee-beans', quantity: 1, buyerId: buyer(), mode: 'mweb', clientIp: '203.0.113.7' });
    expect(r).toMatchObject({ ok: true, kind: 'native', h5Refused: true });
    const db = await dbm.getDb();
    const attempts = await db.selectFrom('payment_attempts').selectAll().where('order_id', '=', r.ok ? r.orderId : '').execute();
    // The refused MWEB claim is gone; the QR pays the same order.
    expect(attempts.map((a) => a.trade_type)).toEqual(['NATIVE']);
    expect(await payments.mwebOffered()).toBe(false);
    expect(await payments.mwebRefusedAt()).not.toBeNull();
    // The app's own instance (another process) reads the same row: its phone pages are open-in-WeChat now.
    const page = await fetch(`${app.baseUrl}/shop/green-tea`, { headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1' } });
    const html = await page.text();
    expect(html).toContain('data-testid="open-in-wechat"');
    expect(html).toContain('data-mode="native"');
    // A day later it is tried again.
    expect(await payments.mwebOffered(Date.now() + payments.MWEB_REFUSAL_TTL_MS + 1000)).toBe(true);
  });
  // docs/configuration.md: with WECHATPAY_MWEB=on "a NO_AUTH still falls back to the QR on that tap, but
  // nothing is remembered": no pay_capabilities row, so `auto` instances are not switched off by it.
  it('WECHATPAY_MWEB=on: NO_AUTH still falls back to the QR, and nothing is remembered', async () => {
    const handle = await dbm.getDbHandle();
    actAsInstanceOf(app, handle, { SANDBOX_MCH_BASE_URL: `${app.baseUrl}/sandbox/mch`, ORDER_TTL_MINUTES: '15', WECHATPAY_MWEB: 'on' });
    try {
      const onPayments: Payments = await import('@/lib/checkout/payments');
      const db = await dbm.getDb();
      await db.deleteFrom('pay_capabilities').execute();
      await fetch(`${app.baseUrl}/sandbox/sim/h5`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ h5_pay: false, refusal: 'RETURN_FAIL' }) });
      const r = await onPayments.startPayment({ sku: 'coffee-beans', quantity: 1, buyerId: buyer(), mode: 'mweb', clientIp: '203.0.113.7' });
      expect(r).toMatchObject({ ok: true, kind: 'native', h5Refused: true });
      expect(await db.selectFrom('pay_capabilities').selectAll().execute()).toEqual([]);
      expect(await onPayments.mwebOffered()).toBe(true);
    } finally {
      delete process.env.WECHATPAY_MWEB;
    }
  });
});
