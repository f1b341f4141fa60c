import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { ENGINES } from '../helpers/db';
import { actAsInstanceOf } from '../helpers/in-process';
import { insertOrder, waitFor } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';
import { merchantCookie, type Receiver, startReceiver, WEBHOOK_ENV } from '../helpers/webhook-receiver';

type Endpoint = { id: string; secret: string };

async function addEndpoint(app: AppServer, cookie: string, url: string): Promise<Endpoint> {
  const r = await fetch(`${app.baseUrl}/api/merchant/webhook-endpoints`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
  if (r.status !== 201) throw new Error(`create endpoint answered ${r.status}: ${await r.text()}`);
  return r.json() as Promise<Endpoint>;
}

/**
 * The outbox is the database: a payment committed (with its event) while the app cannot deliver it,
 * then SIGKILLed, is delivered after a restart; the events of payments applied by a third process are
 * delivered exactly once by two app instances racing on one PostgreSQL. This test process applies the
 * payments with the real transition function (lib/checkout in process, no deliverer).
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
    // A real payment, applied by the one transition function in this process: the order turns paid and
    // checkout.session.paid is written in the same commit.
    const { applyPayment } = await import('@/lib/checkout/payments');
    const o = await insertOrder(h.db, { amountFen: 990 });
    expect(await applyPayment({ source: 'notify', outTradeNo: o.outTradeNo, transactionId: '4200000000202611240000000001', totalFee: 990 }))
      .toMatchObject({ outcome: 'applied' });
    const { id } = await h.db.selectFrom('webhook_events').select('id').where('order_id', '=', o.orderId).where('type', '=', 'checkout.session.paid').executeTakeFirstOrThrow();
    // The app polls once a minute and was not told (another process committed): nothing is sent before the kill.
    await app.kill();
    expect(rx.hitsFor(id)).toEqual([]);
    const pending = await h.db.selectFrom('webhook_deliveries').selectAll().where('event_id', '=', id).executeTakeFirstOrThrow();
    expect(pending).toMatchObject({ status: 'pending', attempts: 0, endpoint_id: ep.id });

    restarted = await startApp({ engine, databaseUrl: app.databaseUrl, env: WEBHOOK_ENV });
    const [hit] = await waitFor(async () => rx.hitsFor(id).length > 0 && rx.hitsFor(id), 15_000, 'the delivery after the restart');
    const body = new Webhook(ep.secret).verify(hit.body, hit.headers) as { data: { object: Record<string, unknown> } };
    expect(body.data.object).toMatchObject({ id: o.orderId, status: 'paid', amount_fen: 990, transaction_id: '4200000000202611240000000001' });
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

  it('50 paid sessions: each checkout.session.paid is delivered exactly once, by both instances between them', async () => {
    // A receiver that takes 40 ms to answer keeps each instance's 4 slots busy, so both must take part.
    rx.answer('/pair', () => new Promise((r) => setTimeout(() => r(200), 40)));
    const ep = await addEndpoint(a, await merchantCookie(a.baseUrl), `${rx.base}/pair`);
    const { applyPayment } = await import('@/lib/checkout/payments');
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const o = await insertOrder(h.db, { amountFen: 100 + i });
      await applyPayment({ source: 'notify', outTradeNo: o.outTradeNo, transactionId: `42000000002026112400000${String(i).padStart(5, '0')}`, totalFee: 100 + i });
      ids.push((await h.db.selectFrom('webhook_events').select('id').where('order_id', '=', o.orderId).executeTakeFirstOrThrow()).id);
    }
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
