import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_API_KEY } from '@/lib/config';
import { type DbHandle, openDb } from '@/lib/db';
import { ENGINES } from '../helpers/db';
import { placeSandboxAttempt, sandboxPay, waitFor } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';
import { signedPaymentNotify } from '../helpers/wechatpay-fixtures';

type Detail = {
  events: Array<{ id: string; source: string; outcome: string; at: string }>;
  eventsOmitted: number;
};

/**
 * The merchant's timeline cannot be flooded out of view (issue 11): an order with hundreds of refused
 * notifies before and after its payment still shows the payment and the newest events, and says how
 * many older ones it left out. The refused notifies here are signed (wrong amount), so they are WeChat's
 * word and do land on the timeline, one row each.
 */
describe.each(ENGINES)('merchant timeline under a flood on %s', (engine) => {
  let app: AppServer;
  let h: DbHandle;
  let merchant: string;

  beforeAll(async () => {
    app = await startApp({ engine, env: { RECONCILE_INTERVAL_MS: '0' } });
    h = openDb(app.databaseUrl);
    const r = await fetch(`${app.baseUrl}/api/merchant/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'sandbox' }) });
    expect(r.status).toBe(200);
    merchant = r.headers.getSetCookie().find((c) => c.startsWith('wxcheckout_session='))!.split(';')[0];
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });

  /** `n` signed notifies for `outTradeNo` with the wrong amount: each one a `rejected` event on the order. */
  async function refusedNotifies(outTradeNo: string, n: number) {
    for (let i = 0; i < n; i += 20) {
      await Promise.all(Array.from({ length: Math.min(20, n - i) }, async () => {
        const r = await fetch(`${app.baseUrl}/api/wechatpay/notify`, {
          method: 'POST', headers: { 'content-type': 'text/xml' }, body: signedPaymentNotify({ out_trade_no: outTradeNo, total_fee: '2' }, { apiKey: SANDBOX_API_KEY }),
        });
        expect(await r.text()).toContain('AMOUNT_MISMATCH');
      }));
    }
  }

  it('100 refused notifies before the payment and 600 after: the applied payment and the newest 200 are shown, 500 counted as left out', async () => {
    const a = await placeSandboxAttempt(app, h.db, { amountFen: 1, sku: 'test-1fen' });
    await refusedNotifies(a.outTradeNo, 100);
    await sandboxPay(app.baseUrl, a.codeUrl!);
    await waitFor(async () => (await h.db.selectFrom('orders').select('status').where('id', '=', a.orderId).executeTakeFirstOrThrow()).status === 'paid', 15_000, 'the payment');
    await refusedNotifies(a.outTradeNo, 600);

    const all = await h.db.selectFrom('payment_events').select(['id', 'outcome', 'at']).where('order_id', '=', a.orderId).orderBy('at', 'desc').orderBy('id', 'desc').execute();
    expect(all.filter((e) => e.outcome === 'rejected')).toHaveLength(700);
    const applied = all.filter((e) => e.outcome === 'applied');
    expect(applied).toHaveLength(1);

    const r = await fetch(`${app.baseUrl}/api/merchant/orders/${a.orderId}`, { headers: { cookie: merchant } });
    expect(r.status).toBe(200);
    const d = (await r.json()) as Detail;
    const shown = new Set(d.events.map((e) => e.id));
    // The payment, although 100 refusals came before it and 600 after.
    expect(shown.has(applied[0].id)).toBe(true);
    // The newest 200 of the rest, exactly.
    const newest = all.filter((e) => e.outcome !== 'applied').slice(0, 200).map((e) => e.id);
    expect(newest.filter((id) => !shown.has(id))).toEqual([]);
    expect(d.events).toHaveLength(201);
    expect(d.eventsOmitted).toBe(500);
    // Still oldest first.
    const ats = d.events.map((e) => e.at);
    expect([...ats].sort()).toEqual(ats);

    // The merchant's page says so.
    const page = await (await fetch(`${app.baseUrl}/merchant/orders/${a.orderId}`, { headers: { cookie: merchant } })).text();
    expect(page).toMatch(/data-testid="events-omitted" data-count="500"/);
    expect(page.match(/data-testid="event-row"/g)).toHaveLength(201);
  });
});
