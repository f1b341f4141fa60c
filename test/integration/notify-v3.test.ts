import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import type { Database } from '@/lib/db/schema';
import { SANDBOX_API_KEY, type SandboxV3Keys } from '@/lib/config';
import { ENGINES } from '../helpers/db';
import { insertOrder, type TestAttempt, waitFor } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';
import { paidTransaction, sandboxSecrets, STRANGER_KEY, v3Notify, type V3NotifyOpts } from '../helpers/v3';
import { signedPaymentNotify } from '../helpers/wechatpay-fixtures';

/**
 * API v3 notifies on the same route (docs/wechatpay-v3.md §2, §4): the Wechatpay-* signature is
 * verified over the raw body before anything else, the resource decrypted with the APIv3 key, then the
 * same checks and the same applyPayment as v2. Acknowledged with 204; refused with a 4xx
 * {"code":"FAIL"} so WeChat retries (https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_1_5.shtml).
 */
type Case = { name: string; status: number; code: RegExp; verified?: boolean; make: (k: SandboxV3Keys, a: TestAttempt) => { body: string; headers: Record<string, string> } };
const notify = (k: SandboxV3Keys, a: TestAttempt, extra: Record<string, unknown> = {}, o: V3NotifyOpts = {}) => v3Notify(k, paidTransaction(a.outTradeNo, extra), o);

const TAMPERED: Case[] = [
  { name: 'bad signature (another key)', status: 401, code: /^BAD_SIGNATURE: /, make: (k, a) => notify(k, a, {}, { signWith: STRANGER_KEY }) },
  {
    name: 'body changed after signing', status: 401, code: /^BAD_SIGNATURE: /,
    make: (k, a) => {
      const n = notify(k, a);
      return { ...n, body: n.body.replace('"summary":"通知"', '"summary":"通知!"') };
    },
  },
  { name: 'wrong serial', status: 401, code: /^UNKNOWN_SERIAL: /, make: (k, a) => notify(k, a, {}, { serial: 'PUB_KEY_ID_0110000100FORGED0000000001' }) },
  { name: 'stale timestamp (6 minutes old)', status: 401, code: /^STALE_TIMESTAMP: /, make: (k, a) => notify(k, a, {}, { timestampMs: Date.now() - 6 * 60_000 }) },
  { name: 'bad GCM tag (encrypted with another APIv3 key)', status: 401, code: /^DECRYPT_FAILED: /, make: (k, a) => notify(k, a, {}, { apiV3Key: 'f'.repeat(32) }) },
  // WeChat probes with signatures starting WECHATPAY/SIGNTEST/ and expects a failure (docs/wechatpay-v3.md §2).
  { name: 'the WECHATPAY/SIGNTEST/ probe', status: 401, code: /^SIGNTEST_PROBE: /, make: (k, a) => notify(k, a, {}, { signature: 'WECHATPAY/SIGNTEST/9A8B7C6D' }) },
  { name: 'missing signature headers', status: 401, code: /^MISSING_SIGNATURE: /, make: (k, a) => ({ body: notify(k, a).body, headers: { 'content-type': 'application/json' } }) },
  { name: 'wrong mchid', status: 400, verified: true, code: /^MCHID_MISMATCH: /, make: (k, a) => notify(k, a, { mchid: '19999999' }) },
  { name: 'wrong appid', status: 400, verified: true, code: /^APPID_MISMATCH: /, make: (k, a) => notify(k, a, { appid: 'wx0000000000000000' }) },
  { name: 'wrong amount', status: 400, verified: true, code: /^AMOUNT_MISMATCH: /, make: (k, a) => notify(k, a, { amount: { total: 2, payer_total: 2, currency: 'CNY', payer_currency: 'CNY' } }) },
  { name: 'not CNY', status: 400, verified: true, code: /^NOT_CNY: /, make: (k, a) => notify(k, a, { amount: { total: 1, payer_total: 1, currency: 'USD', payer_currency: 'USD' } }) },
  { name: 'trade_state NOTPAY', status: 400, verified: true, code: /^RESULT_FAIL: /, make: (k, a) => notify(k, a, { trade_state: 'NOTPAY' }) },
];

describe.each(ENGINES)('v3 payment notify on %s', (engine) => {
  let app: AppServer;
  let h: DbHandle;
  let db: Kysely<Database>;
  let url: string;
  let keys: SandboxV3Keys;

  beforeAll(async () => {
    app = await startApp({ engine, env: { RECONCILE_INTERVAL_MS: '0', WECHATPAY_API_VERSION: 'v3' } });
    h = openDb(app.databaseUrl);
    db = h.db;
    url = `${app.baseUrl}/api/wechatpay/notify`;
    keys = sandboxSecrets(app);
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });

  const send = (n: { body: string; headers: Record<string, string> }) => fetch(url, { method: 'POST', headers: n.headers, body: n.body });
  const eventCount = async () => Number((await db.selectFrom('payment_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const state = async (a: TestAttempt) => ({
    order: await db.selectFrom('orders').select(['status', 'transaction_id', 'paid_at']).where('id', '=', a.orderId).executeTakeFirstOrThrow(),
    attempt: await db.selectFrom('payment_attempts').select(['status', 'transaction_id']).where('out_trade_no', '=', a.outTradeNo).executeTakeFirstOrThrow(),
  });
  const refusedHits = async (code: RegExp) =>
    (await db.selectFrom('refused_notifies').select(['detail', 'hits']).where('source', '=', 'notify').execute()).filter((r) => code.test(r.detail)).reduce((n, r) => n + Number(r.hits), 0);

  it.each(TAMPERED)('refuses $name: 4xx FAIL JSON, nothing changes', async ({ status, code, verified, make }) => {
    const a = await insertOrder(db, { protocol: 'v3' });
    const before = await state(a);
    const n0 = await eventCount();
    const hits0 = await refusedHits(code);
    const r = await send(make(keys, a));
    expect(r.status).toBe(status);
    expect(await r.json()).toMatchObject({ code: 'FAIL', message: expect.any(String) });
    expect(await state(a)).toEqual(before);
    expect(before.order.status).toBe('pending');
    if (verified) {
      expect(await eventCount()).toBe(n0 + 1);
      const ev = await db.selectFrom('payment_events').selectAll().where('out_trade_no', '=', a.outTradeNo).executeTakeFirstOrThrow();
      expect(ev).toMatchObject({ source: 'notify', outcome: 'rejected' });
      expect(ev.detail).toMatch(code);
    } else {
      await waitFor(async () => (await refusedHits(code)) === hits0 + 1, 15_000, 'the refusal to be counted');
      expect(await eventCount()).toBe(n0);
    }
  });

  it('applies a valid notify once: 204 with no body, repeats 204, the decrypted resource on the timeline', async () => {
    const a = await insertOrder(db, { amountFen: 6800, sku: 'green-tea', protocol: 'v3' });
    const n = notify(keys, a, { transaction_id: '4200000000202611240000000042', success_time: '2026-11-24T20:30:00+08:00', amount: { total: 6800, payer_total: 6800, currency: 'CNY', payer_currency: 'CNY' } });
    const r = await send(n);
    expect(r.status).toBe(204);
    expect(await r.text()).toBe('');
    expect(await state(a)).toMatchObject({ order: { status: 'paid', transaction_id: '4200000000202611240000000042', paid_at: '2026-11-24T12:30:00.000Z' }, attempt: { status: 'paid' } });
    expect((await send(n)).status).toBe(204);
    const evs = await db.selectFrom('payment_events').select(['outcome', 'raw']).where('out_trade_no', '=', a.outTradeNo).orderBy('at').execute();
    expect(evs.map((e) => e.outcome)).toEqual(['applied', 'duplicate']);
    expect(evs[0].raw).toContain(n.body);
    expect(evs[0].raw).toContain('"out_trade_no":"' + a.outTradeNo);
  });

  it('50 concurrent copies of one v3 notify: all 204, exactly one applied', async () => {
    const a = await insertOrder(db, { protocol: 'v3' });
    const n = notify(keys, a);
    const statuses = await Promise.all(Array.from({ length: 50 }, () => send(n).then((r) => r.status)));
    expect(statuses.every((s) => s === 204)).toBe(true);
    const evs = await db.selectFrom('payment_events').select(['outcome']).where('out_trade_no', '=', a.outTradeNo).execute();
    expect(evs.filter((e) => e.outcome === 'applied')).toHaveLength(1);
    expect(evs.filter((e) => e.outcome === 'duplicate')).toHaveLength(49);
    expect((await state(a)).order.status).toBe('paid');
  });

  it('a v2 XML notify for an attempt placed before the switch still applies (the body tells the protocol)', async () => {
    const a = await insertOrder(db);
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: signedPaymentNotify({ out_trade_no: a.outTradeNo }, { apiKey: SANDBOX_API_KEY }) });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('<return_code><![CDATA[SUCCESS]]></return_code>');
    expect((await state(a)).order.status).toBe('paid');
  });
});
