import { sealData } from 'iron-session';
import { PNG } from 'pngjs';
import jsQR from 'jsqr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { ENGINES } from '../helpers/db';
import { requestFrom } from '../helpers/local-client';
import { insertOrder } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';

/** A cookie jar of one: the session cookie the app sets. */
function cookieFrom(r: Response): string {
  const c = r.headers.getSetCookie().find((s) => s.startsWith('wxcheckout_session='));
  if (!c) throw new Error(`no session cookie (status ${r.status})`);
  return c.split(';')[0];
}

const SECRET = 'merchant-api-test-session-secret-0123456789';

describe.each(ENGINES)('merchant HTTP API on %s', (engine) => {
  let app: AppServer;
  let h: DbHandle;
  let merchant: string;
  const get = (path: string, cookie?: string) => fetch(`${app.baseUrl}${path}`, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
  // Each source address (127.x.y.z, all loopback) is one client to the login throttle.
  const login = (password: string, from = '127.0.0.21') =>
    requestFrom(from, app.port, '/api/merchant/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });

  beforeAll(async () => {
    app = await startApp({ engine, env: { MERCHANT_PASSWORD: 'correct horse battery', SESSION_SECRET: SECRET } });
    h = openDb(app.databaseUrl);
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });

  it('logs in with MERCHANT_PASSWORD only: wrong -> 401, right -> 200 {ok:true} and a session cookie', async () => {
    const wrong = await login('sandbox');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.getSetCookie()).toEqual([]);
    expect((await wrong.json()).code).toBe('BAD_PASSWORD');
    const bad = await fetch(`${app.baseUrl}/api/merchant/session`, { method: 'POST', body: 'password=x' });
    expect(bad.status).toBe(400);
    const ok = await login('correct horse battery');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true });
    merchant = cookieFrom(ok);
    expect((await get('/api/merchant/orders', merchant)).status).toBe(200);
  });

  it('refuses anyone else: no session and a buyer session get 401 from the APIs and a redirect from the pages', async () => {
    // A genuine buyer session (sealed with the app's own secret, as the shop seals it): ids, no merchant flag.
    const buyerCookie = `wxcheckout_session=${await sealData({ buyerId: 'b_test', openid: 'oBuyerX' }, { password: SECRET })}`;
    const { orderId } = await insertOrder(h.db, { buyerId: 'b_test' });
    // The app takes it as that buyer's session: the buyer sees their own order...
    expect((await get(`/api/orders/${orderId}`, buyerCookie)).status).toBe(200);
    // Sealed with the real secret but naming no live session: the old `merchant: true` flag, a made-up id.
    const sealedClaim = `wxcheckout_session=${await sealData({ merchant: true, merchantSessionId: 'A'.repeat(43) }, { password: SECRET })}`;
    for (const cookie of [undefined, buyerCookie, 'wxcheckout_session=forged', sealedClaim]) {
      for (const path of ['/api/merchant/orders', `/api/merchant/orders/${orderId}`, '/api/merchant/orders/export', '/api/merchant/summary', '/api/merchant/products/test-1fen/qr?format=png']) {
        const r = await get(path, cookie);
        expect(r.status, `${path} with ${cookie ?? 'no cookie'}`).toBe(401);
      }
      for (const path of ['/merchant/orders', `/merchant/orders/${orderId}`, '/merchant/products', '/merchant']) {
        const r = await get(path, cookie);
        expect(r.status, path).toBeGreaterThanOrEqual(300);
        expect(r.status, path).toBeLessThan(400);
        expect(r.headers.get('location'), path).toMatch(/\/merchant\/(login|orders)/);
        expect(await r.text()).not.toContain('data-testid="order-status"');
      }
    }
  });

  it('lists orders newest first with a cursor, filters by status and finds by order id, out_trade_no and openid', async () => {
    const a = await insertOrder(h.db, { amountFen: 150 });
    const b = await insertOrder(h.db, { amountFen: 250 });
    await h.db.updateTable('orders').set({ buyer_openid: 'oSearchMe', status: 'closed' }).where('id', '=', b.orderId).execute();
    const list = await (await get('/api/merchant/orders?limit=2', merchant)).json();
    expect(list.orders.map((o: { id: string }) => o.id)).toEqual([b.orderId, a.orderId]);
    expect(list.orders[1]).toMatchObject({ id: a.orderId, status: 'pending', amountFen: 150 });
    expect(typeof list.nextCursor).toBe('string');
    const next = await (await get(`/api/merchant/orders?limit=2&cursor=${list.nextCursor}`, merchant)).json();
    expect(next.orders.map((o: { id: string }) => o.id)).not.toContain(a.orderId);
    expect(next.orders.length).toBeGreaterThan(0);

    const q = async (s: string) => (await (await get(`/api/merchant/orders?q=${encodeURIComponent(s)}`, merchant)).json()).orders.map((o: { id: string }) => o.id);
    expect(await q(a.orderId)).toEqual([a.orderId]);
    expect(await q(a.outTradeNo)).toEqual([a.orderId]);
    expect(await q('oSearchMe')).toEqual([b.orderId]);
    expect(await q('nothing-like-it')).toEqual([]);
    const closed = await (await get('/api/merchant/orders?status=closed', merchant)).json();
    expect(closed.orders.map((o: { id: string }) => o.id)).toEqual([b.orderId]);
    const bad = await get('/api/merchant/orders?status=shipped', merchant);
    expect(bad.status).toBe(400);
  });

  it('GET /api/merchant/orders/[id]: order, attempts, refunds and events; 404 for an unknown id', async () => {
    const a = await insertOrder(h.db, { amountFen: 300 });
    const d = await (await get(`/api/merchant/orders/${a.orderId}`, merchant)).json();
    expect(d.order).toMatchObject({ id: a.orderId, status: 'pending', amountFen: 300, refundableFen: 0 });
    expect(d.attempts).toEqual([expect.objectContaining({ outTradeNo: a.outTradeNo, status: 'open', amountFen: 300 })]);
    expect(d.refunds).toEqual([]);
    expect(Array.isArray(d.events)).toBe(true);
    expect((await get('/api/merchant/orders/o_nope', merchant)).status).toBe(404);
  });

  it('exports the filtered list as a UTF-8 CSV with a BOM, amounts in yuan', async () => {
    const a = await insertOrder(h.db, { amountFen: 1234 });
    const r = await get(`/api/merchant/orders/export?q=${a.orderId}`, merchant);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/csv');
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="orders-\d{4}-\d{2}-\d{2}\.csv"$/);
    const bytes = new Uint8Array(await r.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = new TextDecoder().decode(bytes.slice(3)).trim().split('\r\n');
    expect(lines[0]).toMatch(/^order_id,status,amount_yuan,/);
    expect(lines.length).toBe(2);
    expect(lines[1]).toContain(`${a.orderId},pending,12.34,0.00,test-1fen,测试商品 · 1 分钱,1,`);
    const all = await (await get('/api/merchant/orders/export', merchant)).text();
    const count = await h.db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(all.trim().split('\r\n').length).toBe(Number(count.n) + 1);
  });

  it('serves each product shop link as a scannable PNG and an SVG poster', async () => {
    const png = await get('/api/merchant/products/green-tea/qr?format=png&download=1', merchant);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('content-disposition')).toBe('attachment; filename="shop-green-tea.png"');
    const img = PNG.sync.read(Buffer.from(await png.arrayBuffer()));
    const code = jsQR(new Uint8ClampedArray(img.data), img.width, img.height);
    expect(code?.data).toBe(`${new URL(app.baseUrl).origin}/shop/green-tea`);
    const svg = await (await get('/api/merchant/products/green-tea/qr?format=svg', merchant)).text();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('明前龙井 50g');
    expect(svg).toContain('¥68.00');
    expect((await get('/api/merchant/products/no-such/qr?format=png', merchant)).status).toBe(404);
    expect((await get('/api/merchant/products/green-tea/qr?format=gif', merchant)).status).toBe(400);
  });

  it('after 5 wrong passwords from one address even the right one is refused for 15 minutes; another address still logs in', async () => {
    const from = '127.0.0.22';
    for (let i = 0; i < 5; i++) expect((await login('wrong', from)).status).toBe(401);
    const locked = await login('correct horse battery', from);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
    expect((await locked.json()).code).toBe('THROTTLED');
    expect((await login('correct horse battery', '127.0.0.23')).status).toBe(200);
  });

  it('DELETE /api/merchant/session logs out, for this cookie and any copy of it', async () => {
    const r = await fetch(`${app.baseUrl}/api/merchant/session`, { method: 'DELETE', headers: { cookie: merchant } });
    expect(r.status).toBe(200);
    const after = cookieFrom(r);
    expect((await get('/api/merchant/orders', after)).status).toBe(401);
    expect((await get('/api/merchant/orders', merchant)).status).toBe(401);
  });
});

describe('merchant order page in live mode without WECHATPAY_CERT_P12', () => {
  let app: AppServer;
  let h: DbHandle;
  beforeAll(async () => {
    app = await startApp({
      env: {
        WECHAT_MODE: 'live', PUBLIC_BASE_URL: 'https://shop.example.com', WECHAT_APPID: 'wx0123456789abcdef', WECHAT_APP_SECRET: 'live-secret',
        WECHATPAY_MCH_ID: '1900000109', WECHATPAY_API_KEY: '0123456789abcdef0123456789abcdef', SESSION_SECRET: SECRET,
        MERCHANT_PASSWORD: 'live-merchant-password', RECONCILE_INTERVAL_MS: '0',
      },
    });
    h = openDb(app.databaseUrl);
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });

  it('says exactly what refunds are missing, on the page and in the JSON', async () => {
    const a = await insertOrder(h.db, { amountFen: 500 });
    await h.db.updateTable('payment_attempts').set({ status: 'paid', transaction_id: '4200000000000000000000000001' }).where('out_trade_no', '=', a.outTradeNo).execute();
    await h.db.updateTable('orders').set({ status: 'paid', transaction_id: '4200000000000000000000000001', paid_at: new Date().toISOString() }).where('id', '=', a.orderId).execute();
    const login = await fetch(`${app.baseUrl}/api/merchant/session`, { method: 'POST', body: JSON.stringify({ password: 'live-merchant-password' }) });
    expect(login.status).toBe(200);
    const cookie = cookieFrom(login);
    expect(login.headers.getSetCookie()[0]).toMatch(/; Secure/i);
    const d = await (await fetch(`${app.baseUrl}/api/merchant/orders/${a.orderId}`, { headers: { cookie } })).json();
    expect(d.order).toMatchObject({ status: 'paid', refundableFen: 500 });
    expect(d.refundBlocker).toContain('WECHATPAY_CERT_P12');
    expect(d.refundBlocker).toContain('apiclient_cert.p12');
    const html = await (await fetch(`${app.baseUrl}/merchant/orders/${a.orderId}`, { headers: { cookie } })).text();
    expect(html).toContain('data-testid="refund-blocker"');
    expect(html).toContain('WECHATPAY_CERT_P12 is not set');
  });
});
