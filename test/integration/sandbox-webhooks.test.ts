import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { actAsInstanceOf } from '../helpers/in-process';
import { waitFor } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';
import { merchantCookie, WEBHOOK_ENV } from '../helpers/webhook-receiver';

type Hit = { webhook_id: string; type: string; answered: number; body: string; headers: Record<string, string>; signature: { state: string } };

/**
 * The sandbox's webhook receiver, like `stripe listen`: an endpoint pointed at /sandbox/webhooks/receive
 * (localhost is allowed in sandbox mode) gets the signed deliveries stored and shown on /sandbox, with
 * the signature checked against a secret the developer pastes; ?fail_first=1 answers 500 once per event.
 */
describe('sandbox webhook receiver', () => {
  let app: AppServer;
  let h: DbHandle;
  let wh: typeof import('@/lib/checkout/webhooks');

  beforeAll(async () => {
    app = await startApp({ engine: 'sqlite', env: WEBHOOK_ENV });
    h = openDb(app.databaseUrl);
    actAsInstanceOf(app, h, WEBHOOK_ENV);
    wh = await import('@/lib/checkout/webhooks');
    wh.startWebhookDeliverer();
  });
  afterAll(async () => {
    wh?.stopWebhookDeliverer();
    await h?.close();
    await app?.stop();
  });

  const hits = async (secret?: string): Promise<Hit[]> =>
    ((await (await fetch(`${app.baseUrl}/sandbox/sim/webhooks`, { headers: secret ? { 'x-webhook-secret': secret } : {} })).json()) as { hits: Hit[] }).hits;

  it('stores each signed delivery, answers the failure asked for, and verifies with the pasted secret', async () => {
    const cookie = await merchantCookie(app.baseUrl);
    const created = await fetch(`${app.baseUrl}/api/merchant/webhook-endpoints`, {
      method: 'POST', headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `http://127.0.0.1:${app.port}/sandbox/webhooks/receive?fail_first=1` }),
    });
    expect(created.status).toBe(201);
    const ep = (await created.json()) as { id: string; secret: string };
    const { writeTransaction } = await import('@/lib/checkout/kernel');
    const id = await writeTransaction((trx) => wh.emitEvent(trx, { type: 'checkout.session.expired', data: { object: { id: 'cs_sandbox' } } }));

    const got = await waitFor(async () => {
      const list = (await hits(ep.secret)).filter((x) => x.webhook_id === id);
      return list.length === 2 ? list : undefined;
    }, 10_000, 'two hits (500, then 200)');
    expect(got.map((x) => x.answered)).toEqual([200, 500]);
    expect(got.every((x) => x.type === 'checkout.session.expired' && x.signature.state === 'valid')).toBe(true);
    expect(got[0].headers['webhook-signature']).toMatch(/^v1,/);
    expect(JSON.parse(got[0].body)).toMatchObject({ id, type: 'checkout.session.expired', data: { object: { id: 'cs_sandbox' } } });
    await waitFor(async () => (await h.db.selectFrom('webhook_deliveries').select('status').where('event_id', '=', id).executeTakeFirstOrThrow()).status === 'delivered', 5_000, 'delivered');

    const other = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    expect((await hits(other)).find((x) => x.webhook_id === id)?.signature.state).toBe('invalid');
    expect((await hits()).find((x) => x.webhook_id === id)?.signature.state).toBe('no-secret');

    // The dashboard: the pasted secret is kept in a /sandbox cookie and each hit says whether it verifies.
    const pasted = await fetch(`${app.baseUrl}/sandbox/sim/webhook-secret`, { method: 'POST', body: new URLSearchParams({ secret: ep.secret }), redirect: 'manual' });
    expect(pasted.status).toBe(303);
    const jar = pasted.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const html = await (await fetch(`${app.baseUrl}/sandbox`, { headers: { cookie: jar } })).text();
    expect(html).toMatch(new RegExp(`data-testid="sandbox-webhook" data-webhook-id="${id}" data-answered="200" data-signature="valid"`));
    expect(html).toMatch(new RegExp(`data-testid="sandbox-webhook" data-webhook-id="${id}" data-answered="500" data-signature="valid"`));
    expect((await fetch(`${app.baseUrl}/sandbox/sim/webhook-secret`, { method: 'POST', body: new URLSearchParams({ secret: 'not-a-secret' }) })).status).toBe(400);
  });

  it('refuses a malformed failure request, and forgets hits on DELETE', async () => {
    const bad = await fetch(`${app.baseUrl}/sandbox/webhooks/receive?status=abc`, { method: 'POST', body: '{}' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'status must be an HTTP status from 200 to 599, got "abc"' });
    const always = await fetch(`${app.baseUrl}/sandbox/webhooks/receive?status=503`, { method: 'POST', headers: { 'webhook-id': 'msg_by_hand' }, body: '{"type":"x"}' });
    expect(always.status).toBe(503);
    expect((await hits()).find((x) => x.webhook_id === 'msg_by_hand')).toMatchObject({ answered: 503, type: 'x', signature: { state: 'no-secret' } });
    expect((await fetch(`${app.baseUrl}/sandbox/sim/webhooks`, { method: 'DELETE' })).status).toBe(200);
    expect(await hits()).toEqual([]);
  });
});
