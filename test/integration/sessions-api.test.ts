import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { actionId, callAction } from '../helpers/actions';
import { DESKTOP_UA } from '../helpers/browser';
import { ENGINES } from '../helpers/db';
import { sandboxPay, waitFor } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';
import { type Hit, merchantCookie, type Receiver, startReceiver, WEBHOOK_ENV } from '../helpers/webhook-receiver';

/**
 * The checkout sessions API as a merchant's backend uses it: `next start` with the embedded sandbox,
 * plain fetch with a Bearer key, a node:http receiver for the webhooks. Payments go through the pay
 * page's own server action and the sandbox's buyer simulator, as a desktop buyer's scan would.
 */
type Json = Record<string, any>;

describe.each(ENGINES)('checkout sessions API on %s', (engine) => {
  let app: AppServer;
  let h: DbHandle;
  let rx: Receiver;
  let cookie: string;
  let key: string;
  let secret: string;
  let ref = 0;
  const nextRef = () => `ORDER-${engine}-${Date.now().toString(36)}-${++ref}`;

  beforeAll(async () => {
    // The reconciler sweeps every 300 ms so an expired session is closed promptly.
    app = await startApp({ engine, env: { ...WEBHOOK_ENV, RECONCILE_INTERVAL_MS: '300' } });
    h = openDb(app.databaseUrl);
    rx = await startReceiver();
    cookie = await merchantCookie(app.baseUrl);
    key = (await merchant('POST', '/api/merchant/api-keys', { name: 'backend' })).json.key;
    secret = (await merchant('POST', '/api/merchant/webhook-endpoints', { url: `${rx.base}/hooks` })).json.secret;
  });
  afterAll(async () => {
    await rx?.close();
    await h?.close();
    await app?.stop();
  });

  async function merchant(method: string, path: string, body?: unknown) {
    const r = await fetch(`${app.baseUrl}${path}`, {
      method, headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, json: (await r.json().catch(() => null)) as Json };
  }
  async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, bearer: string | null = key) {
    const r = await fetch(`${app.baseUrl}${path}`, {
      method,
      headers: { ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: r.status, json: (await r.json()) as Json, headers: r.headers };
  }
  const create = (body: Json, headers: Record<string, string> = {}) => api('POST', '/api/v1/checkout/sessions', body, headers);
  const session = async (id: string) => (await api('GET', `/api/v1/checkout/sessions/${id}`)).json;

  /** The events of `type` about object `id` the receiver got, verified with the endpoint's secret. */
  function events(type: string, objectId: string): Array<{ hit: Hit; body: Json }> {
    return rx.hits.filter((x) => x.path === '/hooks').map((hit) => ({ hit, body: new Webhook(secret).verify(hit.body, hit.headers) as Json }))
      .filter((e) => e.body.type === type && e.body.data.object.id === objectId);
  }
  const eventFor = (type: string, objectId: string) => waitFor(async () => events(type, objectId)[0], 15_000, `${type} for ${objectId}`);

  /** Pays a session as a desktop buyer: the pay page's action places a Native order, the sandbox buyer scans and pays. */
  async function pay(id: string) {
    const started = await callAction<Json>(app.baseUrl, `/pay/${id}`, actionId('app/pay/[id]/actions.ts', 'startSessionPayment'), [{ sessionId: id }], { 'user-agent': DESKTOP_UA });
    expect(started.result).toMatchObject({ ok: true, kind: 'native', orderId: id });
    const attempt = await h.db.selectFrom('payment_attempts').select('code_url').where('order_id', '=', id).where('status', '=', 'open').executeTakeFirstOrThrow();
    expect((await sandboxPay(app.baseUrl, { code_url: attempt.code_url! })).status).toBe(200);
    return eventFor('checkout.session.paid', id);
  }

  it('API keys: shown once with the sandbox prefix, listed without the key; a missing, unknown or revoked key is 401', async () => {
    const made = await merchant('POST', '/api/merchant/api-keys', { name: 'to revoke' });
    expect(made.status).toBe(201);
    expect(made.json).toEqual({ id: expect.any(String), name: 'to revoke', key: expect.stringMatching(/^sk_test_[A-Za-z0-9_-]{32}$/), created_at: expect.any(String) });
    const listed = await merchant('GET', '/api/merchant/api-keys');
    expect(JSON.stringify(listed.json)).not.toContain(made.json.key);
    expect(listed.json.data.map((k: Json) => k.id)).toContain(made.json.id);
    const stored = await h.db.selectFrom('api_keys').selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain(made.json.key);

    expect((await api('GET', '/api/v1/checkout/sessions', undefined, {}, made.json.key)).status).toBe(200);
    expect((await merchant('DELETE', `/api/merchant/api-keys/${made.json.id}`)).status).toBe(200);
    for (const bearer of [made.json.key, null, 'sk_test_unknownunknownunknownunknown', `${key}x`]) {
      const r = await api('GET', '/api/v1/checkout/sessions', undefined, {}, bearer);
      expect(r.status).toBe(401);
      expect(r.json.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
    // Managing keys needs the merchant's session, not a key.
    expect((await api('POST', '/api/merchant/api-keys', { name: 'x' })).status).toBe(401);
  });

  it('creates a session (201); the same merchant_reference and amount answer it again (200), another amount is 409', async () => {
    const reference = nextRef();
    const body = { amount_fen: 4500, description: '咖啡豆 1kg', merchant_reference: reference, metadata: { cart: 'c_1' }, success_url: 'https://shop.example.com/thanks' };
    const first = await create(body);
    expect(first.status).toBe(201);
    expect(first.json).toEqual({
      id: expect.stringMatching(/^cs_/), url: `${app.baseUrl}/pay/${first.json.id}`, status: 'open', amount_fen: 4500, amount_refunded_fen: 0,
      description: '咖啡豆 1kg', merchant_reference: reference, metadata: { cart: 'c_1' }, success_url: 'https://shop.example.com/thanks',
      expires_at: expect.any(String), created_at: expect.any(String), paid_at: null, transaction_id: null, payer_openid: null, livemode: false,
    });
    // Default window: ORDER_TTL_MINUTES (15).
    expect(Date.parse(first.json.expires_at) - Date.parse(first.json.created_at)).toBe(15 * 60_000);
    const again = await create(body);
    expect([again.status, again.json]).toEqual([200, first.json]);
    const other = await create({ ...body, amount_fen: 4600 });
    expect(other.status).toBe(409);
    expect(other.json.error).toMatchObject({ code: 'merchant_reference_conflict', param: 'merchant_reference' });
    expect(await h.db.selectFrom('orders').select('id').where('merchant_reference', '=', reference).execute()).toHaveLength(1);
  });

  it('refuses bad input with 400 naming the field, and writes nothing', async () => {
    const good = { amount_fen: 100, description: 'ok', merchant_reference: nextRef() };
    const cases: Array<[Json | string, string]> = [
      [{ ...good, amount_fen: 0 }, 'amount_fen'],
      [{ ...good, amount_fen: 1.5 }, 'amount_fen'],
      [{ ...good, amount_fen: '100' }, 'amount_fen'],
      [{ ...good, description: '字'.repeat(43) }, 'description'], // 129 bytes: over WeChat's 127
      [{ ...good, description: ' ' }, 'description'],
      [{ ...good, merchant_reference: 'has space' }, 'merchant_reference'],
      [{ ...good, expires_in_minutes: 1 }, 'expires_in_minutes'],
      [{ ...good, success_url: 'javascript:alert(1)' }, 'success_url'],
      [{ ...good, metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
      [{ ...good, amount: 100 }, 'amount'],
    ];
    const before = await h.db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    for (const [body, param] of cases) {
      const r = await create(body as Json);
      expect([r.status, r.json.error?.param], JSON.stringify(body).slice(0, 80)).toEqual([400, param]);
      expect(r.json.error.message).toMatch(/\S/);
    }
    const broken = await api('POST', '/api/v1/checkout/sessions', '{"amount_fen": 1,');
    expect(broken.status).toBe(400);
    expect((await create({ ...good, description: '字'.repeat(42) })).status).toBe(201); // 126 bytes: fits
    const after = await h.db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n) + 1);
  });

  it('Idempotency-Key: a retried create replays the first answer; the key with another body is 422', async () => {
    const idem = `idem-${nextRef()}`;
    const body = { amount_fen: 200, description: 'idem', merchant_reference: nextRef() };
    const first = await create(body, { 'idempotency-key': idem });
    const replay = await create(body, { 'idempotency-key': idem });
    expect(first.status).toBe(201);
    expect([replay.status, replay.json, replay.headers.get('idempotent-replayed')]).toEqual([201, first.json, 'true']);
    const misuse = await create({ ...body, amount_fen: 201 }, { 'idempotency-key': idem });
    expect([misuse.status, misuse.json.error.code]).toEqual([422, 'idempotency_key_mismatch']);
  });

  it('lists newest first with cursor pages and filters', async () => {
    const made: string[] = [];
    const tag = nextRef();
    for (let i = 0; i < 3; i++) made.push((await create({ amount_fen: 300 + i, description: `list ${i}`, merchant_reference: `${tag}-${i}` })).json.id);
    const page1 = await api('GET', '/api/v1/checkout/sessions?limit=2');
    expect(page1.status).toBe(200);
    expect(page1.json.data.map((s: Json) => s.id)).toEqual([made[2], made[1]]);
    expect(page1.json.has_more).toBe(true);
    const page2 = await api('GET', `/api/v1/checkout/sessions?limit=2&starting_after=${made[1]}`);
    expect(page2.json.data[0].id).toBe(made[0]);
    const byRef = await api('GET', `/api/v1/checkout/sessions?merchant_reference=${tag}-1`);
    expect(byRef.json).toEqual({ data: [expect.objectContaining({ id: made[1] })], has_more: false });
    const open = await api('GET', '/api/v1/checkout/sessions?status=open&limit=100');
    expect(open.json.data.every((s: Json) => s.status === 'open')).toBe(true);
    for (const q of ['limit=0', 'limit=101', 'status=unknown', 'starting_after=nope', 'colour=red']) {
      const r = await api('GET', `/api/v1/checkout/sessions?${q}`);
      expect([r.status, r.json.error.param], q).toEqual([400, q.split('=')[0]]);
    }
  });

  it('a paid session: checkout.session.paid carries the session as GET returns it, signed for the endpoint; close is then 409', async () => {
    const s = (await create({ amount_fen: 1234, description: '门票', merchant_reference: nextRef() })).json;
    const paid = await pay(s.id);
    const now = await session(s.id);
    expect(now).toMatchObject({ status: 'paid', transaction_id: expect.any(String), paid_at: expect.any(String) });
    expect(paid.body).toEqual({ id: expect.stringMatching(/^evt_/), type: 'checkout.session.paid', created_at: expect.any(String), data: { object: now } });
    expect(paid.hit.headers['webhook-id']).toBe(paid.body.id);
    const close = await api('POST', `/api/v1/checkout/sessions/${s.id}/close`);
    expect([close.status, close.json.error.code]).toEqual([409, 'session_paid']);
  });

  it('refunds: Idempotency-Key required, partial then the rest, each refund.succeeded; over-refund refused; a retried refund is one refund', async () => {
    const s = (await create({ amount_fen: 1000, description: 'refund me', merchant_reference: nextRef() })).json;
    await pay(s.id);
    const path = `/api/v1/checkout/sessions/${s.id}/refunds`;
    const noKey = await api('POST', path, { amount_fen: 100 });
    expect([noKey.status, noKey.json.error.code]).toEqual([400, 'idempotency_key_required']);

    const part = await api('POST', path, { amount_fen: 300, reason: '少发一件' }, { 'idempotency-key': `r1-${s.id}` });
    expect(part.status).toBe(201);
    expect(part.json).toMatchObject({ id: expect.any(String), session_id: s.id, amount_fen: 300, status: expect.stringMatching(/^(processing|succeeded)$/), created_at: expect.any(String) });
    const retried = await api('POST', path, { amount_fen: 300, reason: '少发一件' }, { 'idempotency-key': `r1-${s.id}` });
    expect(retried.json.id).toBe(part.json.id);
    const ok1 = await eventFor('refund.succeeded', part.json.id);
    expect(ok1.body.data.object).toMatchObject({ id: part.json.id, session_id: s.id, amount_fen: 300, status: 'succeeded' });
    expect(await session(s.id)).toMatchObject({ status: 'partially_refunded', amount_refunded_fen: 300 });

    const over = await api('POST', path, { amount_fen: 701 }, { 'idempotency-key': `r2-${s.id}` });
    expect([over.status, over.json.error.param]).toEqual([422, 'amount_fen']);
    const rest = await api('POST', path, { amount_fen: 700 }, { 'idempotency-key': `r3-${s.id}` });
    expect(rest.status).toBe(201);
    await eventFor('refund.succeeded', rest.json.id);
    expect(await session(s.id)).toMatchObject({ status: 'refunded', amount_refunded_fen: 1000 });
    expect(await h.db.selectFrom('refunds').select('out_refund_no').where('order_id', '=', s.id).execute()).toHaveLength(2);
  });

  it('close: an open session closes (checkout.session.closed) and can no longer be paid', async () => {
    const s = (await create({ amount_fen: 500, description: 'close me', merchant_reference: nextRef() })).json;
    const closed = await api('POST', `/api/v1/checkout/sessions/${s.id}/close`);
    expect([closed.status, closed.json.status]).toEqual([200, 'closed']);
    const ev = await eventFor('checkout.session.closed', s.id);
    expect(ev.body.data.object).toEqual(await session(s.id));
    const started = await callAction<Json>(app.baseUrl, `/pay/${s.id}`, actionId('app/pay/[id]/actions.ts', 'startSessionPayment'), [{ sessionId: s.id }], { 'user-agent': DESKTOP_UA });
    expect(started.result).toMatchObject({ ok: false, code: 'CLOSED' });
    expect((await api('POST', '/api/v1/checkout/sessions/cs_doesnotexist000000000/close')).status).toBe(404);
  });

  it('an expired session reads expired at once, is closed by the reconciler with checkout.session.expired, and cannot be paid', async () => {
    const s = (await create({ amount_fen: 600, description: 'too late', merchant_reference: nextRef(), expires_in_minutes: 6 })).json;
    // The window ends now (rather than waiting 5 minutes).
    await h.db.updateTable('orders').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', s.id).execute();
    expect((await session(s.id)).status).toBe('expired');
    const started = await callAction<Json>(app.baseUrl, `/pay/${s.id}`, actionId('app/pay/[id]/actions.ts', 'startSessionPayment'), [{ sessionId: s.id }], { 'user-agent': DESKTOP_UA });
    expect(started.result).toMatchObject({ ok: false, code: 'EXPIRED' });
    const ev = await eventFor('checkout.session.expired', s.id);
    expect(ev.body.data.object).toMatchObject({ id: s.id, status: 'expired' });
    expect((await h.db.selectFrom('orders').select(['status', 'closed_reason']).where('id', '=', s.id).executeTakeFirstOrThrow())).toEqual({ status: 'closed', closed_reason: 'expired' });
    expect(events('checkout.session.expired', s.id)).toHaveLength(1);
  });

  it('serves an OpenAPI 3.1 document generated from the request schemas', async () => {
    const r = await fetch(`${app.baseUrl}/api/v1/openapi.json`);
    expect(r.status).toBe(200);
    const doc = (await r.json()) as Json;
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
      '/api/v1/checkout/sessions', '/api/v1/checkout/sessions/{id}', '/api/v1/checkout/sessions/{id}/close', '/api/v1/checkout/sessions/{id}/refunds',
    ]));
    const create = doc.paths['/api/v1/checkout/sessions'].post;
    const schema = create.requestBody.content['application/json'].schema;
    const resolved = schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
    // The same zod schema validates requests: its bounds are the document's.
    expect(resolved.properties.amount_fen).toMatchObject({ type: 'integer', minimum: 1 });
    expect(resolved.required).toEqual(expect.arrayContaining(['amount_fen', 'description', 'merchant_reference']));
    expect(resolved.additionalProperties).toBe(false);
  });
});

describe('API keys with two instances on one PostgreSQL', () => {
  let a: AppServer;
  let b: AppServer;
  beforeAll(async () => {
    a = await startApp({ engine: 'postgres', env: WEBHOOK_ENV });
    b = await startApp({ databaseUrl: a.databaseUrl, env: WEBHOOK_ENV });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('a key revoked on one instance is refused by the other at once', async () => {
    const cookie = await merchantCookie(a.baseUrl);
    const made = (await (await fetch(`${a.baseUrl}/api/merchant/api-keys`, {
      method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'shared' }),
    })).json()) as Json;
    const onB = () => fetch(`${b.baseUrl}/api/v1/checkout/sessions`, { headers: { authorization: `Bearer ${made.key}` } });
    expect((await onB()).status).toBe(200);
    expect((await fetch(`${a.baseUrl}/api/merchant/api-keys/${made.id}`, { method: 'DELETE', headers: { cookie } })).status).toBe(200);
    // The very next call on the other instance, no waiting: keys are looked up in the shared database.
    expect((await onB()).status).toBe(401);
  });
});
