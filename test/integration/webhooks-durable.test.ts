import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { ENGINES } from '../helpers/db';
import { actAsInstanceOf } from '../helpers/in-process';
import { waitFor } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';
import { merchantCookie, type Receiver, startReceiver, WEBHOOK_ENV } from '../helpers/webhook-receiver';

type Endpoint = { id: string; secret: string };

async function addEndpoint(app: AppServer, cookie: string, url: string): Promise<Endpoint> {
  const r = await fetch(`${app.baseUrl}/api/merchant/webhook-endpoints`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
  if (r.status !== 201) throw new Error(`create endpoint answered ${r.status}: ${await r.text()}`);
  return r.json() as Promise<Endpoint>;
}

/**
 * The outbox is the database: an event committed while the app cannot deliver it (then SIGKILLed) is
 * delivered after a restart; events emitted by a third process are delivered exactly once by two app
 * instances racing on one PostgreSQL. This test process emits (lib/checkout in process, no deliverer).
 */
describe.each(ENGINES)('webhooks across a SIGKILL on %s', (engine) => {
  let app: AppServer;
  let restarted: AppServer | undefined;
  let h: DbHandle;
  let rx: Receiver;

  beforeAll(async () => {
    app = await startApp({ engine, env: WEBHOOK_ENV });
    h = openDb(app.databaseUrl);
    actAsInstanceOf(app, h, WEBHOOK_ENV);
    rx = await startReceiver();
  });
  afterAll(async () => {
    await rx?.close();
    await h?.close();
    await restarted?.stop();
    await app?.stop();
  });

  it('an event committed before the app was SIGKILLed, and not yet delivered, is delivered after the restart', async () => {
    const ep = await addEndpoint(app, await merchantCookie(app.baseUrl), `${rx.base}/kill`);
    const wh = await import('@/lib/checkout/webhooks');
    const { writeTransaction } = await import('@/lib/checkout/kernel');
    const id = await writeTransaction((trx) => wh.emitEvent(trx, { type: 'checkout.session.paid', data: { object: { id: 'cs_before_kill' } } }));
    // The app polls once a minute and was not told (another process emitted): nothing is sent before the kill.
    await app.kill();
    expect(rx.hitsFor(id)).toEqual([]);
    const pending = await h.db.selectFrom('webhook_deliveries').selectAll().where('event_id', '=', id).executeTakeFirstOrThrow();
    expect(pending).toMatchObject({ status: 'pending', attempts: 0, endpoint_id: ep.id });

    restarted = await startApp({ engine, databaseUrl: app.databaseUrl, env: WEBHOOK_ENV });
    const [hit] = await waitFor(async () => rx.hitsFor(id).length > 0 && rx.hitsFor(id), 15_000, 'the delivery after the restart');
    expect(() => new Webhook(ep.secret).verify(hit.body, hit.headers)).not.toThrow();
    await waitFor(async () => (await h.db.selectFrom('webhook_deliveries').select('status').where('id', '=', pending.id).executeTakeFirstOrThrow()).status === 'delivered', 5_000, 'delivered');
    expect(rx.hitsFor(id)).toHaveLength(1);
  });
});

describe('webhooks with two instances on one PostgreSQL', () => {
  const env = { ...WEBHOOK_ENV, WEBHOOK_POLL_MS: '25', WEBHOOK_CONCURRENCY: '4' };
  let a: AppServer;
  let b: AppServer;
  let h: DbHandle;
  let rx: Receiver;

  beforeAll(async () => {
    a = await startApp({ engine: 'postgres', env });
    b = await startApp({ databaseUrl: a.databaseUrl, env });
    h = openDb(a.databaseUrl);
    actAsInstanceOf(a, h, env);
    rx = await startReceiver();
  });
  afterAll(async () => {
    await rx?.close();
    await h?.close();
    await b?.stop();
    await a?.stop();
  });

  it('50 events are each delivered exactly once, by both instances between them', async () => {
    // A receiver that takes 40 ms to answer keeps each instance's 4 slots busy, so both must take part.
    rx.answer('/pair', () => new Promise((r) => setTimeout(() => r(200), 40)));
    const ep = await addEndpoint(a, await merchantCookie(a.baseUrl), `${rx.base}/pair`);
    const wh = await import('@/lib/checkout/webhooks');
    const { writeTransaction } = await import('@/lib/checkout/kernel');
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await writeTransaction((trx) => wh.emitEvent(trx, { type: 'refund.succeeded', data: { object: { id: `re_${i}` } } })));
    const delivered = () => h.db.selectFrom('webhook_deliveries').select(['id', 'attempts']).where('endpoint_id', '=', ep.id).where('status', '=', 'delivered').execute();
    await waitFor(async () => (await delivered()).length === 50, 30_000, 'all 50 delivered');
    expect(rx.hits.filter((x) => x.path === '/pair')).toHaveLength(50);
    for (const id of ids) expect(rx.hitsFor(id, '/pair').length, id).toBe(1);
    expect((await delivered()).every((d) => d.attempts === 1)).toBe(true);
    const instances = await h.db.selectFrom('webhook_attempts as t').innerJoin('webhook_deliveries as d', 'd.id', 't.delivery_id')
      .select('t.instance').distinct().where('d.endpoint_id', '=', ep.id).execute();
    expect(instances).toHaveLength(2);
  });
});
