import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDb } from '@/lib/db';
import { ENGINES } from '../helpers/db';
import { actAsInstanceOf, INSTANCE_ENV } from '../helpers/in-process';
import { type AppServer, startApp } from '../helpers/server';

/**
 * startPayment (lib/checkout) called in this process against a real app's sandbox and database: the
 * app serves WeChat's side (unifiedorder, notify), this process plays a second app instance sharing
 * the same database, as a deployment behind a load balancer would.
 */
type Orders = typeof import('@/lib/checkout/payments');
type Db = typeof import('@/lib/db');

/** Loads lib/checkout as a second instance of `app` (its own sandbox base URL and payment window). */
async function loadAppModules(app: AppServer): Promise<{ orders: Orders; db: Db }> {
  actAsInstanceOf(app, initDb(app.databaseUrl), { SANDBOX_MCH_BASE_URL: `${app.baseUrl}/sandbox/mch`, ORDER_TTL_MINUTES: '15' });
  return { orders: await import('@/lib/checkout/payments'), db: await import('@/lib/db') };
}

async function simOrders(app: AppServer): Promise<Array<{ out_trade_no: string; total_fee: number | string; trade_type: string; state: string; prepay_id: string; code_url: string | null }>> {
  const r = await fetch(`${app.baseUrl}/sandbox/sim/orders`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { orders: never[] }).orders;
}

/** A sandbox WeChat user's openid, obtained the way the app gets one: authorize, then exchange the code. */
async function sandboxOpenid(app: AppServer): Promise<string> {
  const redirect = encodeURIComponent(`${app.baseUrl}/api/wechat/oauth/callback`);
  const r = await fetch(`${app.baseUrl}/sandbox/open/connect/oauth2/authorize?appid=wxd930ea5d5a258f4f&redirect_uri=${redirect}&response_type=code&scope=snsapi_base&state=abc123#wechat_redirect`, { redirect: 'manual' });
  if (r.status !== 302) throw new Error(`authorize answered ${r.status}: ${await r.text()}`);
  const code = new URL(r.headers.get('location')!).searchParams.get('code')!;
  const t = await fetch(`${app.baseUrl}/sandbox/api/sns/oauth2/access_token?appid=wxd930ea5d5a258f4f&secret=sandbox0app0secret0not0for0live00&code=${code}&grant_type=authorization_code`);
  const j = (await t.json()) as { openid: string };
  expect(j.openid).toBeTruthy();
  return j.openid;
}

describe.each(ENGINES)('startPayment on %s', (engine) => {
  let app: AppServer;
  let orders: Orders;
  let dbm: Db;
  const buyer = (tag: string) => `b_test${tag}${Math.random().toString(36).slice(2, 12)}`;

  beforeAll(async () => {
    // startApp passes this process's env to the server: the previous suite's settings must not leak in.
    for (const k of [...INSTANCE_ENV, 'SANDBOX_MCH_BASE_URL', 'ORDER_TTL_MINUTES']) delete process.env[k];
    app = await startApp({ engine });
    ({ orders, db: dbm } = await loadAppModules(app));
  });
  afterAll(async () => {
    await (await dbm?.getDbHandle())?.close();
    await app?.stop();
  });

  const countRows = async (buyerId: string) => {
    const db = await dbm.getDb();
    const os = await db.selectFrom('orders').selectAll().where('buyer_id', '=', buyerId).execute();
    const as = os.length ? await db.selectFrom('payment_attempts').selectAll().where('order_id', 'in', os.map((o) => o.id)).execute() : [];
    return { orders: os, attempts: as };
  };

  it('refuses bad input and unknown products, writing nothing', async () => {
    const b = buyer('bad');
    for (const quantity of [0, 100, 1.5, Number.NaN]) {
      const r = await orders.startPayment({ sku: 'green-tea', quantity, buyerId: b, mode: 'native', clientIp: '127.0.0.1' });
      expect(r).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    }
    expect(await orders.startPayment({ sku: 'no-such', quantity: 1, buyerId: b, mode: 'native', clientIp: '127.0.0.1' })).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(await orders.startPayment({ sku: 'green-tea', quantity: 1, buyerId: b, mode: 'jsapi', clientIp: '127.0.0.1' })).toMatchObject({ ok: false, code: 'OAUTH_REQUIRED' });
    expect((await countRows(b)).orders).toHaveLength(0);
  });

  it('two concurrent calls place one order and one unifiedorder; the amount comes from the catalog', async () => {
    const b = buyer('dbl');
    const before = (await simOrders(app)).length;
    const [r1, r2] = await Promise.all([
      orders.startPayment({ sku: 'green-tea', quantity: 3, buyerId: b, mode: 'native', clientIp: '203.0.113.5' }),
      orders.startPayment({ sku: 'green-tea', quantity: 3, buyerId: b, mode: 'native', clientIp: '203.0.113.5' }),
    ]);
    expect(r1.ok && r2.ok).toBe(true);
    if (!r1.ok || !r2.ok || r1.kind !== 'native' || r2.kind !== 'native') throw new Error('expected native results');
    expect(r1.orderId).toBe(r2.orderId);
    expect(r1.amountFen).toBe(6800 * 3);
    expect(r1.qrSvg).toMatch(/^<svg/);
    const rows = await countRows(b);
    expect(rows.orders).toHaveLength(1);
    expect(rows.attempts).toHaveLength(1);
    expect(rows.orders[0]).toMatchObject({ amount_fen: 20400, quantity: 3, status: 'pending', sku: 'green-tea' });
    const sim = await simOrders(app);
    expect(sim.length).toBe(before + 1);
    expect(sim[0]).toMatchObject({ out_trade_no: rows.attempts[0].out_trade_no, trade_type: 'NATIVE' });
    expect(Number(sim[0].total_fee)).toBe(20400);
    // time_expire went out in UTC+8: the sandbox parsed it back to the same instant the attempt stores.
    const db = await dbm.getDb();
    const so = await (db as any).selectFrom('sandbox_orders').selectAll().where('out_trade_no', '=', rows.attempts[0].out_trade_no).executeTakeFirst();
    expect(so.expires_at).toBe(rows.attempts[0].expires_at.replace(/\.\d{3}Z$/, '.000Z'));
    expect(JSON.parse(so.params_json)).toContainEqual(['spbill_create_ip', '203.0.113.5']);
    expect(JSON.parse(so.params_json)).toContainEqual(['notify_url', `${app.baseUrl}/api/wechatpay/notify`]);
  });

  if (engine === 'postgres') {
    it('two instances (separate processes) tapping at once still place one order: the advisory lock', async () => {
      const b = buyer('two');
      const before = (await simOrders(app)).length;
      const script = `
        const { startPayment } = require(${JSON.stringify(path.resolve(__dirname, '../../lib/checkout/payments/index.ts'))});
        startPayment({ sku: 'green-tea', quantity: 1, buyerId: ${JSON.stringify(b)}, mode: 'native', clientIp: '127.0.0.1' })
          .then((r) => { process.stdout.write(JSON.stringify(r)); process.exit(0); }, (e) => { console.error(e); process.exit(1); });`;
      const env = { ...process.env, DATABASE_URL: app.databaseUrl, PUBLIC_BASE_URL: app.baseUrl, PORT: String(app.port), SANDBOX_MCH_BASE_URL: `${app.baseUrl}/sandbox/mch` };
      const run = () => new Promise<{ ok: boolean; orderId: string }>((resolve, reject) => {
        execFile(process.execPath, ['--import', 'tsx', '-e', script], { env, cwd: path.resolve(__dirname, '../..') }, (err, stdout, stderr) => {
          if (err) reject(new Error(`${err.message}\n${stderr}`));
          else resolve(JSON.parse(stdout));
        });
      });
      // A slow unifiedorder widens the window in which the two processes overlap.
      await fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api: 'unifiedorder', fault: 'DELAY', count: 2, delayMs: 2500 }) });
      const [r1, r2] = await Promise.all([run(), run()]).finally(() => fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'DELETE' }));
      expect(r1.ok && r2.ok).toBe(true);
      expect(r1.orderId).toBe(r2.orderId);
      const rows = await countRows(b);
      expect(rows.orders).toHaveLength(1);
      expect(rows.attempts).toHaveLength(1);
      expect((await simOrders(app)).length).toBe(before + 1);
    });
  }

  it('reuses an open attempt of the same trade type, makes a fresh out_trade_no when the type changes or it expired', async () => {
    const b = buyer('reuse');
    const openid = await sandboxOpenid(app);
    const j1 = await orders.startPayment({ sku: 'coffee-beans', quantity: 1, buyerId: b, openid, mode: 'jsapi', clientIp: '127.0.0.1' });
    const n1 = (await simOrders(app)).length;
    const j2 = await orders.startPayment({ sku: 'coffee-beans', quantity: 1, buyerId: b, openid, mode: 'jsapi', clientIp: '127.0.0.1' });
    if (!j1.ok || !j2.ok || j1.kind !== 'jsapi' || j2.kind !== 'jsapi') throw new Error(`expected jsapi results: ${JSON.stringify([j1, j2])}`);
    expect(j2.orderId).toBe(j1.orderId);
    expect(j2.params.package).toBe(j1.params.package);
    expect(j2.params.package).toMatch(/^prepay_id=/);
    expect((await simOrders(app)).length).toBe(n1);

    const n2 = await orders.startPayment({ sku: 'coffee-beans', quantity: 1, buyerId: b, openid, mode: 'native', clientIp: '127.0.0.1', orderId: j1.orderId });
    expect(n2).toMatchObject({ ok: true, kind: 'native', orderId: j1.orderId });
    let rows = await countRows(b);
    expect(rows.orders).toHaveLength(1);
    expect(rows.attempts.map((a) => a.trade_type).sort()).toEqual(['JSAPI', 'NATIVE']);
    expect(new Set(rows.attempts.map((a) => a.out_trade_no)).size).toBe(2);

    const db = await dbm.getDb();
    await db.updateTable('payment_attempts').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('order_id', '=', j1.orderId).where('trade_type', '=', 'JSAPI').execute();
    const j3 = await orders.startPayment({ sku: 'coffee-beans', quantity: 1, buyerId: b, openid, mode: 'jsapi', clientIp: '127.0.0.1', orderId: j1.orderId });
    if (!j3.ok || j3.kind !== 'jsapi') throw new Error('expected jsapi');
    expect(j3.params.package).not.toBe(j1.params.package);
    rows = await countRows(b);
    expect(rows.attempts).toHaveLength(3);
    expect(rows.orders[0].buyer_openid).toBe(openid);
  });

  it('a different quantity is a different order', async () => {
    const b = buyer('qty');
    const a = await orders.startPayment({ sku: 'test-1fen', quantity: 1, buyerId: b, mode: 'native', clientIp: '127.0.0.1' });
    const c = await orders.startPayment({ sku: 'test-1fen', quantity: 2, buyerId: b, mode: 'native', clientIp: '127.0.0.1' });
    if (!a.ok || !c.ok) throw new Error('expected ok');
    expect(c.orderId).not.toBe(a.orderId);
    expect(c.amountFen).toBe(2);
  });

  it('an upstream failure is a clear retryable error and leaves no rows; the retry then works', async () => {
    const b = buyer('up');
    const f = await fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api: 'unifiedorder', fault: 'HTTP500', count: 10 }) });
    expect(f.ok).toBe(true);
    try {
      const r = await orders.startPayment({ sku: 'mooncake-box', quantity: 1, buyerId: b, mode: 'native', clientIp: '127.0.0.1' });
      expect(r).toMatchObject({ ok: false, code: 'UPSTREAM' });
      expect(await countRows(b)).toEqual({ orders: [], attempts: [] });
    } finally {
      await fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'DELETE' });
    }
    const r2 = await orders.startPayment({ sku: 'mooncake-box', quantity: 1, buyerId: b, mode: 'native', clientIp: '127.0.0.1' });
    expect(r2).toMatchObject({ ok: true, kind: 'native' });
  });

  it('a double tap while WeChat fails: the waiting tap gets the same clear error and nothing is left behind', async () => {
    const b = buyer('dblfail');
    const fault = (body: object) => fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await fault({ api: 'unifiedorder', fault: 'DELAY', count: 1, delayMs: 800 });
    await fault({ api: 'unifiedorder', fault: 'HTTP500', count: 10 });
    try {
      const first = orders.startPayment({ sku: 'coffee-beans', quantity: 2, buyerId: b, mode: 'native', clientIp: '127.0.0.1' });
      // While the first is at WeChat its claim is a `failed` attempt without prepay: nothing acts on it.
      await expect.poll(async () => (await countRows(b)).attempts.map((a) => [a.status, a.code_url])).toEqual([['failed', null]]);
      const second = orders.startPayment({ sku: 'coffee-beans', quantity: 2, buyerId: b, mode: 'native', clientIp: '127.0.0.1' });
      expect(await first).toMatchObject({ ok: false, code: 'UPSTREAM' });
      expect(await second).toMatchObject({ ok: false, code: 'UPSTREAM' });
      expect(await countRows(b)).toEqual({ orders: [], attempts: [] });
    } finally {
      await fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'DELETE' });
    }
  });

  it('an order that got paid answers ALREADY_PAID with its id', async () => {
    const b = buyer('paid');
    const r = await orders.startPayment({ sku: 'test-1fen', quantity: 1, buyerId: b, mode: 'native', clientIp: '127.0.0.1' });
    if (!r.ok) throw new Error('expected ok');
    const rows = await countRows(b);
    const pay = await fetch(`${app.baseUrl}/sandbox/sim/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code_url: rows.attempts[0].code_url }) });
    expect(pay.ok).toBe(true);
    const db = await dbm.getDb();
    await expect.poll(async () => (await db.selectFrom('orders').select('status').where('id', '=', r.orderId).executeTakeFirst())?.status, { timeout: 15_000 }).toBe('paid');
    const again = await orders.startPayment({ sku: 'test-1fen', quantity: 1, buyerId: b, mode: 'native', clientIp: '127.0.0.1', orderId: r.orderId });
    expect(again).toMatchObject({ ok: false, code: 'ALREADY_PAID', orderId: r.orderId });
    // Someone else's order id is not theirs to look at: treated as no order, a new one is made.
    const other = await orders.startPayment({ sku: 'test-1fen', quantity: 1, buyerId: buyer('other'), mode: 'native', clientIp: '127.0.0.1', orderId: r.orderId });
    expect(other.ok && other.orderId !== r.orderId).toBe(true);
  });
});
