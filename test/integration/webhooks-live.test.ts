import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { actAsInstanceOf } from '../helpers/in-process';
import { waitFor } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';

const LIVE = {
  WECHAT_MODE: 'live', PUBLIC_BASE_URL: 'https://shop.example.com', WECHAT_APPID: 'wx1234567890abcdef', WECHAT_APP_SECRET: 's'.repeat(32),
  WECHATPAY_MCH_ID: '1900000109', WECHATPAY_API_KEY: 'k'.repeat(32), MERCHANT_PASSWORD: 'a-long-merchant-password', SESSION_SECRET: 'x'.repeat(40),
  RECONCILE_INTERVAL_MS: '0', WEBHOOK_POLL_MS: '100',
};

/**
 * The SSRF guard in a live-mode app over real HTTP: private and loopback URLs are refused when an endpoint
 * is created, and an endpoint whose name resolves to loopback at delivery time (written straight into the
 * database, as if its DNS had changed since) is refused by the deliverer without a connection. No request
 * leaves this machine: the only URL accepted is never sent to.
 */
describe('webhook URLs in live mode', () => {
  let app: AppServer;
  let h: DbHandle;
  let cookie: string;
  let tcp: net.Server;
  let port: number;
  let connections = 0;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    app = await startApp({ engine: 'sqlite', env: LIVE });
    h = openDb(app.databaseUrl);
    tcp = net.createServer((s) => {
      connections++;
      sockets.add(s);
      s.destroy();
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    port = (tcp.address() as net.AddressInfo).port;
    const login = await fetch(`${app.baseUrl}/api/merchant/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: LIVE.MERCHANT_PASSWORD }) });
    expect(login.status).toBe(200);
    cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => tcp?.close(() => r()));
    await h?.close();
    await app?.stop();
  });

  const create = async (url: string) => {
    const r = await fetch(`${app.baseUrl}/api/merchant/webhook-endpoints`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
    return { status: r.status, json: (await r.json()) as any };
  };

  it('refuses http and private, loopback, link-local, unique-local and unspecified addresses (v4, v6, v4-mapped); accepts a public one', async () => {
    for (const url of ['https://10.0.0.5/hook', 'https://192.168.1.10/hook', 'https://127.0.0.1/hook', `https://localhost:${port}/hook`, 'https://169.254.169.254/latest',
      'https://[::1]/hook', 'https://[fd00::1]/hook', 'https://[fe80::1]/hook', 'https://[::ffff:10.0.0.5]/hook', 'https://0.0.0.0/hook', 'https://[::]/hook']) {
      const r = await create(url);
      expect([r.status, r.json.error?.code, r.json.error?.param], url).toEqual([400, 'url_forbidden', 'url']);
    }
    expect((await create('https://localhost/hook')).json.error.message).toMatch(/^url is refused in live mode: localhost resolves to (127\.0\.0\.1|::1), which is loopback/);
    const http = await create('http://203.0.113.7/hook');
    expect([http.status, http.json.error.message]).toEqual([400, 'url must be https in live mode']);
    expect(await h.db.selectFrom('webhook_endpoints').select('id').execute()).toEqual([]);
    // A public literal passes (no DNS needed). It is deleted at once and no event is ever emitted to it.
    const ok = await create('https://203.0.113.7/hook');
    expect(ok.status).toBe(201);
    expect((await fetch(`${app.baseUrl}/api/merchant/webhook-endpoints/${ok.json.id}`, { method: 'DELETE', headers: { cookie } })).status).toBe(200);
  });

  it('at delivery time, a name resolving to loopback is refused and recorded, and nothing connects', async () => {
    const now = new Date().toISOString();
    // Whatever the first test left behind (it deletes its public endpoint, unless it failed midway) gets no event.
    await h.db.updateTable('webhook_endpoints').set({ disabled_at: now }).where('disabled_at', 'is', null).execute();
    await h.db.insertInto('webhook_endpoints').values({ id: 'we_0123456789abcdef0123', url: `https://localhost:${port}/hook`, events: '[]', secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`, created_at: now, updated_at: now, disabled_at: null }).execute();
    actAsInstanceOf(app, h, LIVE);
    const wh = await import('@/lib/checkout/webhooks');
    const { writeTransaction } = await import('@/lib/checkout/kernel');
    const id = await writeTransaction((trx) => wh.emitEvent(trx, { type: 'refund.failed', data: { object: { id: 're_live' } } }));
    const d = await waitFor(async () => {
      const row = await h.db.selectFrom('webhook_deliveries').selectAll().where('event_id', '=', id).executeTakeFirstOrThrow();
      return row.attempts > 0 ? row : undefined;
    }, 10_000, 'the first attempt');
    expect(d).toMatchObject({ status: 'pending', attempts: 1, last_status: null });
    expect(d.last_error).toMatch(/^refused: localhost resolves to (127\.0\.0\.1|::1), which is loopback$/);
    // Live mode keeps WeChat's real schedule: the next attempt is 15 s away.
    expect(Date.parse(d.next_at!) - Date.now()).toBeGreaterThan(10_000);
    expect(connections).toBe(0);
  });
});
