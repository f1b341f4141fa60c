import { createHmac } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { ENGINES } from '../helpers/db';
import { actAsInstanceOf } from '../helpers/in-process';
import { insertOrder, waitFor } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';
import { merchantCookie, type Receiver, startReceiver, WEBHOOK_ENV } from '../helpers/webhook-receiver';

/**
 * Webhooks end to end: the app (`next start`) holds the endpoints and serves the merchant API and pages;
 * this test process is a second instance of it that emits events inside its own transactions and runs
 * its own deliverer, woken by its emits; a node:http server on 127.0.0.1 is the merchant's receiver.
 */
describe.each(ENGINES)('webhooks on %s', (engine) => {
  let app: AppServer;
  let h: DbHandle;
  let rx: Receiver;
  let cookie: string;
  let wh: typeof import('@/lib/checkout/webhooks');
  let kernel: typeof import('@/lib/checkout/kernel');

  beforeAll(async () => {
    app = await startApp({ engine, env: WEBHOOK_ENV });
    h = openDb(app.databaseUrl);
    actAsInstanceOf(app, h, WEBHOOK_ENV);
    wh = await import('@/lib/checkout/webhooks');
    kernel = await import('@/lib/checkout/kernel');
    wh.startWebhookDeliverer();
    rx = await startReceiver();
    cookie = await merchantCookie(app.baseUrl);
  });
  afterAll(async () => {
    wh?.stopWebhookDeliverer();
    await rx?.close();
    await h?.close();
    await app?.stop();
  });

  const api = async (method: string, path: string, body?: unknown, withCookie = true) => {
    const r = await fetch(`${app.baseUrl}${path}`, {
      method, headers: { ...(withCookie ? { cookie } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: r.status, json: (await r.json()) as any };
  };
  const addEndpoint = async (path: string, events?: string[]) => {
    const r = await api('POST', '/api/merchant/webhook-endpoints', { url: `${rx.base}${path}`, ...(events ? { events } : {}) });
    expect(r.status).toBe(201);
    return r.json as { id: string; url: string; events: string[]; secret: string; created_at: string };
  };
  const emit = (type: import('@/lib/checkout/webhooks').WebhookEventType, object: Record<string, unknown>, orderId: string | null = null) =>
    kernel.writeTransaction((trx) => wh.emitEvent(trx, { type, data: { object }, orderId }));
  const delivery = (eventId: string, endpointId: string) =>
    h.db.selectFrom('webhook_deliveries').selectAll().where('event_id', '=', eventId).where('endpoint_id', '=', endpointId).orderBy('created_at').execute();

  it('an event emitted in a transaction reaches the receiver promptly, signed so that Webhook.verify holds', async () => {
    const ep = await addEndpoint('/a');
    expect(ep).toMatchObject({ id: expect.stringMatching(/^we_/), url: `${rx.base}/a`, events: [] });
    expect(ep.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const listed = await api('GET', '/api/merchant/webhook-endpoints');
    expect(listed.json.data).toContainEqual({ id: ep.id, url: ep.url, events: [], created_at: ep.created_at });
    expect(JSON.stringify(listed.json)).not.toContain('whsec_');

    const order = await insertOrder(h.db);
    const object = { id: 'cs_test_1', object: 'checkout.session', status: 'paid', amount_total: 1 };
    const committedAt = Date.now();
    const id = await emit('checkout.session.paid', object, order.orderId);
    expect(id).toMatch(/^evt_/);
    // The app polls once a minute: only this process's in-process wake-up explains a delivery within seconds.
    const [hit] = await waitFor(async () => rx.hitsFor(id, '/a').length > 0 && rx.hitsFor(id, '/a'), 5_000, 'the delivery');
    expect(hit.at - committedAt).toBeLessThan(5_000);

    const payload = new Webhook(ep.secret).verify(hit.body, hit.headers) as Record<string, unknown>;
    expect(payload).toEqual({ id, type: 'checkout.session.paid', created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), data: { object } });
    expect(hit.headers['webhook-id']).toBe(id);
    expect(hit.headers['content-type']).toBe('application/json');
    const ts = Number(hit.headers['webhook-timestamp']);
    expect(Math.abs(ts - hit.at / 1000)).toBeLessThan(5);
    // The Standard Webhooks construction, by hand: base64 HMAC-SHA256 over "{id}.{timestamp}.{body}" with the decoded secret.
    const key = Buffer.from(ep.secret.slice('whsec_'.length), 'base64');
    expect(hit.headers['webhook-signature']).toBe(`v1,${createHmac('sha256', key).update(`${id}.${ts}.${hit.body}`).digest('base64')}`);
    expect(() => new Webhook(ep.secret).verify(`${hit.body} `, hit.headers)).toThrow(WebhookVerificationError);

    const [d] = await waitFor(async () => ((await delivery(id, ep.id))[0]?.status === 'delivered' ? delivery(id, ep.id) : undefined), 5_000, 'delivered');
    expect(d).toMatchObject({ attempts: 1, last_status: 200, next_at: null, locked_until: null, last_response_head: 'ok 1' });
  });

  it('an event emitted in a transaction that rolls back is never written and never delivered', async () => {
    await addEndpoint('/rollback');
    let rolledBack = '';
    await expect(kernel.writeTransaction(async (trx) => {
      rolledBack = await wh.emitEvent(trx, { type: 'refund.succeeded', data: { object: { id: 're_rolled_back' } } });
      throw new Error('the state change failed');
    })).rejects.toThrow('the state change failed');
    expect(rolledBack).toMatch(/^evt_/);
    // A later committed event on the same endpoint is delivered; by then the rolled-back one would have been too.
    const committed = await emit('refund.succeeded', { id: 're_committed' });
    await waitFor(async () => rx.hitsFor(committed, '/rollback').length > 0, 5_000, 'the committed event');
    expect(rx.hitsFor(rolledBack)).toEqual([]);
    expect(await h.db.selectFrom('webhook_events').select('id').where('id', '=', rolledBack).execute()).toEqual([]);
    expect(await h.db.selectFrom('webhook_deliveries').select('id').where('event_id', '=', rolledBack).execute()).toEqual([]);
  });

  it('answered 500 twice then 200: three attempts on the scaled schedule, then delivered; the API and the pages show all three', async () => {
    rx.answer('/flaky', (n) => (n <= 2 ? 500 : 200));
    const ep = await addEndpoint('/flaky', ['checkout.session.paid']);
    const order = await insertOrder(h.db);
    const id = await emit('checkout.session.paid', { id: 'cs_flaky' }, order.orderId);
    const [d] = await waitFor(async () => ((await delivery(id, ep.id))[0]?.status === 'delivered' ? delivery(id, ep.id) : undefined), 10_000, 'delivered after retries');
    expect(d).toMatchObject({ attempts: 3, last_status: 200, next_at: null, locked_until: null, claimed_by: null });
    const hits = rx.hitsFor(id, '/flaky');
    expect(hits.map((x) => x.status)).toEqual([500, 500, 200]);
    // WeChat's first two steps are 15 s and 15 s; WEBHOOK_TIME_SCALE=100 makes them 150 ms each.
    expect(hits[1].at - hits[0].at).toBeGreaterThanOrEqual(150);
    expect(hits[2].at - hits[1].at).toBeGreaterThanOrEqual(150);
    expect(new Set(hits.map((x) => x.body)).size).toBe(1);

    const list = await api('GET', `/api/merchant/webhook-endpoints/${ep.id}/deliveries`);
    expect(list.status).toBe(200);
    const shown = list.json.data.find((x: { id: string }) => x.id === d.id);
    expect(shown).toMatchObject({ event_id: id, event_type: 'checkout.session.paid', endpoint_id: ep.id, status: 'delivered', attempts: 3, next_at: null, last_status: 200, order_id: order.orderId });
    expect(shown.attempt_log.map((a: { attempt: number; status: number; response_head: string }) => [a.attempt, a.status, a.response_head])).toEqual([[1, 500, 'nope 1'], [2, 500, 'nope 2'], [3, 200, 'ok 3']]);
    const byOrder = await api('GET', `/api/merchant/orders/${order.orderId}/webhook-deliveries`);
    // Every delivery of every event about the order: this one, and the same event's to the endpoints subscribed to all.
    expect(byOrder.json.data.map((x: { id: string }) => x.id)).toContain(d.id);
    expect(byOrder.json.data.every((x: { event_id: string; order_id: string }) => x.event_id === id && x.order_id === order.orderId)).toBe(true);

    for (const page of ['/merchant/developers', `/merchant/orders/${order.orderId}`]) {
      const html = await (await fetch(`${app.baseUrl}${page}`, { headers: { cookie } })).text();
      const row = new RegExp(`<tr[^>]*data-delivery-id="${d.id}"[^>]*>([\\s\\S]*?)</tr>`).exec(html);
      expect(row, page).not.toBeNull();
      expect(row![0]).toContain('data-status="delivered"');
      expect(row![0]).toContain('data-attempts="3"');
      expect(row![1].match(/data-testid="webhook-attempt-row" data-status="(\d+)"/g)).toEqual(['500', '500', '200'].map((s) => `data-testid="webhook-attempt-row" data-status="${s}"`));
      expect(row![1]).toContain('data-testid="webhook-resend"');
    }
  });

  it('Resend delivers the same event again (same webhook-id and body) as a new delivery', async () => {
    const ep = await addEndpoint('/resend', ['refund.succeeded']);
    const id = await emit('refund.succeeded', { id: 're_resend' });
    await waitFor(async () => (await delivery(id, ep.id))[0]?.status === 'delivered', 5_000, 'the first delivery');
    const [first] = await delivery(id, ep.id);
    const r = await api('POST', `/api/merchant/webhook-deliveries/${first.id}/resend`);
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ created: true, delivery: { event_id: id, endpoint_id: ep.id, resend_of: first.id } });
    expect(r.json.delivery.id).not.toBe(first.id);
    const hits = await waitFor(async () => rx.hitsFor(id, '/resend').length >= 2 && rx.hitsFor(id, '/resend'), 5_000, 'the resend');
    expect(hits[1].headers['webhook-id']).toBe(id);
    expect(hits[1].body).toBe(hits[0].body);
    expect(() => new Webhook(ep.secret).verify(hits[1].body, hits[1].headers)).not.toThrow();
    await waitFor(async () => (await delivery(id, ep.id)).every((x) => x.status === 'delivered'), 5_000, 'both delivered');
    expect((await delivery(id, ep.id)).map((x) => x.attempts)).toEqual([1, 1]);
    expect((await api('POST', '/api/merchant/webhook-deliveries/whd_00000000000000000000/resend')).json).toEqual({ error: { code: 'resource_missing', message: 'no webhook delivery whd_00000000000000000000', param: 'id' } });
  });

  it('roll secret: the new secret is shown once, and the old one no longer verifies new deliveries', async () => {
    const ep = await addEndpoint('/roll', ['refund.succeeded']);
    const rolled = await api('POST', `/api/merchant/webhook-endpoints/${ep.id}/roll-secret`);
    expect(rolled.status).toBe(200);
    expect(rolled.json).toMatchObject({ id: ep.id, url: ep.url, secret: expect.stringMatching(/^whsec_/) });
    expect(rolled.json.secret).not.toBe(ep.secret);
    const id = await emit('refund.succeeded', { id: 're_after_roll' });
    const [hit] = await waitFor(async () => rx.hitsFor(id, '/roll').length > 0 && rx.hitsFor(id, '/roll'), 5_000, 'the delivery');
    expect(() => new Webhook(rolled.json.secret).verify(hit.body, hit.headers)).not.toThrow();
    expect(() => new Webhook(ep.secret).verify(hit.body, hit.headers)).toThrow(WebhookVerificationError);
  });

  it('refuses bad input naming the field and changes nothing; subscriptions filter; delete stops an endpoint; 401 without a session', async () => {
    const count = async () => (await h.db.selectFrom('webhook_endpoints').select('id').execute()).length;
    const before = await count();
    const cases: Array<[unknown, number, string, string | null]> = [
      [{ url: 'ftp://x.example/hook' }, 400, 'parameter_invalid', 'url'],
      [{}, 400, 'parameter_missing', 'url'],
      [{ url: `${rx.base}/x`, events: ['checkout.session.paid', 'order.shipped'] }, 400, 'parameter_invalid', 'events'],
      [{ url: `${rx.base}/x`, events: 'refund.failed' }, 400, 'parameter_invalid', 'events'],
      [{ url: `${rx.base}/x`, enabled: true }, 400, 'parameter_unknown', 'enabled'],
      ['{"url": ', 400, 'invalid_json', null],
      [[`${rx.base}/x`], 400, 'invalid_request', null],
    ];
    for (const [body, status, code, param] of cases) {
      const r = await api('POST', '/api/merchant/webhook-endpoints', body);
      expect([r.status, r.json.error.code, r.json.error.param], JSON.stringify(body)).toEqual([status, code, param]);
      expect(typeof r.json.error.message).toBe('string');
    }
    expect(await count()).toBe(before);
    const anon = await api('GET', '/api/merchant/webhook-endpoints', undefined, false);
    expect(anon).toEqual({ status: 401, json: { error: { code: 'unauthorized', message: expect.any(String), param: null } } });
    expect((await api('POST', '/api/merchant/webhook-endpoints', { url: `${rx.base}/x` }, false)).status).toBe(401);
    expect(await count()).toBe(before);

    // Subscribed to refunds only: a paid session is not sent there.
    const refundsOnly = await addEndpoint('/refunds-only', ['refund.failed']);
    const id = await emit('checkout.session.paid', { id: 'cs_filtered' });
    expect(await delivery(id, refundsOnly.id)).toEqual([]);
    expect((await h.db.selectFrom('webhook_deliveries').select('id').where('event_id', '=', id).execute()).length).toBeGreaterThan(0);

    const del = await api('DELETE', `/api/merchant/webhook-endpoints/${refundsOnly.id}`);
    expect(del).toEqual({ status: 200, json: { id: refundsOnly.id, deleted: true } });
    expect((await api('GET', `/api/merchant/webhook-endpoints/${refundsOnly.id}`)).status).toBe(404);
    const after = await emit('refund.failed', { id: 're_after_delete' });
    expect(await delivery(after, refundsOnly.id)).toEqual([]);
  });
});
