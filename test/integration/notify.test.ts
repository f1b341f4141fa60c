import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import type { Database } from '@/lib/db/schema';
import { SANDBOX_API_KEY } from '@/lib/config';
import { ENGINES } from '../helpers/db';
import { insertOrder, type TestAttempt, waitFor } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';
import { signedPaymentNotify } from '../helpers/wechatpay-fixtures';

const SUCCESS = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
const key = { apiKey: SANDBOX_API_KEY };

/** `verified`: the signature held, so the refusal is WeChat's word and lands in payment_events. */
type Case = { name: string; code: RegExp; verified?: boolean; send: (a: TestAttempt, url: string) => Promise<Response> };
const post = (url: string, body: string, headers: Record<string, string> = { 'content-type': 'text/xml' }) => fetch(url, { method: 'POST', headers, body });

/** Each refused notify targets a real open attempt, so "no state change" means something. */
const REFUSED: Case[] = [
  { name: 'bad sign', code: /^BAD_SIGN: /, send: (a, u) => post(u, signedPaymentNotify({ out_trade_no: a.outTradeNo }, { apiKey: 'x'.repeat(32) })) },
  {
    name: 'forged sign (a field changed after signing)', code: /^BAD_SIGN: /,
    send: (a, u) => post(u, signedPaymentNotify({ out_trade_no: a.outTradeNo }, key).replace('<total_fee>1</total_fee>', '<total_fee>2</total_fee>')),
  },
  { name: 'right sign, wrong amount', verified: true, code: /^AMOUNT_MISMATCH: /, send: (a, u) => post(u, signedPaymentNotify({ out_trade_no: a.outTradeNo, total_fee: '2' }, key)) },
  { name: 'wrong appid', verified: true, code: /^APPID_MISMATCH: /, send: (a, u) => post(u, signedPaymentNotify({ out_trade_no: a.outTradeNo, appid: 'wx0000000000000000' }, key)) },
  { name: 'wrong mch_id', verified: true, code: /^MCHID_MISMATCH: /, send: (a, u) => post(u, signedPaymentNotify({ out_trade_no: a.outTradeNo, mch_id: '19999999' }, key)) },
  { name: 'unknown out_trade_no', verified: true, code: /^UNKNOWN_OUT_TRADE_NO: /, send: (_a, u) => post(u, signedPaymentNotify({ out_trade_no: 'P20260101000000NOSUCHTRADE' }, key)) },
  {
    name: 'DOCTYPE (XXE)', code: /^XML_DOCTYPE: /,
    send: (a, u) => post(u, `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${signedPaymentNotify({ out_trade_no: a.outTradeNo }, key).replace('<bank_type>', '<bank_type>&xxe;')}`),
  },
  {
    name: 'entity bomb', code: /^XML_DOCTYPE: /,
    send: (_a, u) => {
      let ents = '<!ENTITY l0 "lol">';
      for (let i = 1; i < 10; i++) ents += `<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`;
      return post(u, `<?xml version="1.0"?><!DOCTYPE xml [${ents}]><xml><return_code>&l9;</return_code></xml>`);
    },
  },
  {
    name: 'oversized', code: /^TOO_LARGE: /,
    send: (a, u) => post(u, signedPaymentNotify({ out_trade_no: a.outTradeNo, attach: 'a'.repeat(70_000) }, key)),
  },
  {
    name: 'oversized, chunked (no content-length)', code: /^TOO_LARGE: /,
    send: (a, u) => {
      const text = signedPaymentNotify({ out_trade_no: a.outTradeNo, attach: 'b'.repeat(200_000) }, key);
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          const bytes = new TextEncoder().encode(text);
          for (let i = 0; i < bytes.length; i += 16_384) c.enqueue(bytes.subarray(i, i + 16_384));
          c.close();
        },
      });
      return fetch(u, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: stream, duplex: 'half' } as RequestInit);
    },
  },
  { name: 'not XML (JSON)', code: /^XML_(MALFORMED|ROOT): /, send: (a, u) => post(u, JSON.stringify({ out_trade_no: a.outTradeNo, total_fee: 1 }), { 'content-type': 'application/json' }) },
  { name: 'not XML (text)', code: /^XML_(MALFORMED|ROOT): /, send: (_a, u) => post(u, 'success') },
  { name: 'empty', code: /^XML_EMPTY: /, send: (_a, u) => post(u, '') },
  { name: 'GET', code: /^METHOD_NOT_ALLOWED: /, send: (_a, u) => fetch(u) },
  // Amounts are fen only in CNY (absent means CNY): before issue 11 these were applied as paid.
  { name: 'fee_type USD', verified: true, code: /^NOT_CNY: fee_type=USD/, send: (a, u) => post(u, signedPaymentNotify({ out_trade_no: a.outTradeNo, fee_type: 'USD' }, key)) },
  { name: 'cash_fee_type HKD', verified: true, code: /^NOT_CNY: cash_fee_type=HKD/, send: (a, u) => post(u, signedPaymentNotify({ out_trade_no: a.outTradeNo, cash_fee_type: 'HKD' }, key)) },
  {
    name: 'result_code FAIL', verified: true, code: /^RESULT_FAIL: /,
    send: (a, u) => post(u, signedPaymentNotify({ out_trade_no: a.outTradeNo, result_code: 'FAIL', err_code: 'NOTENOUGH' }, key)),
  },
];

describe.each(ENGINES)('payment notify on %s', (engine) => {
  let app: AppServer;
  let h: DbHandle;
  let db: Kysely<Database>;
  let url: string;

  beforeAll(async () => {
    // The reconciler is off here: only notifies may move these orders.
    app = await startApp({ engine, env: { RECONCILE_INTERVAL_MS: '0' } });
    h = openDb(app.databaseUrl);
    db = h.db;
    url = `${app.baseUrl}/api/wechatpay/notify`;
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });

  const eventCount = async () => Number((await db.selectFrom('payment_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const state = async (a: TestAttempt) => ({
    order: await db.selectFrom('orders').select(['status', 'transaction_id', 'paid_at', 'duplicate_paid']).where('id', '=', a.orderId).executeTakeFirstOrThrow(),
    attempt: await db.selectFrom('payment_attempts').select(['status', 'transaction_id']).where('out_trade_no', '=', a.outTradeNo).executeTakeFirstOrThrow(),
  });

  /** Hits counted in refused_notifies whose reason matches `code` (unverified notifies are only counted). */
  const refusedHits = async (code: RegExp) =>
    (await db.selectFrom('refused_notifies').select(['detail', 'hits']).where('source', '=', 'notify').execute())
      .filter((r) => code.test(r.detail)).reduce((n, r) => n + Number(r.hits), 0);

  it.each(REFUSED)('refuses $name: FAIL, no state change, the reason kept (an event if signed, a count if not)', async ({ code, send, verified }) => {
    const a = await insertOrder(db);
    const before = await state(a);
    const n0 = await eventCount();
    const hits0 = await refusedHits(code);
    const r = await send(a, url);
    const text = await r.text();
    expect(text).toContain('<return_code><![CDATA[FAIL]]></return_code>');
    expect(text).not.toContain('SUCCESS');
    expect(r.headers.get('content-type')).toMatch(/xml/);
    expect(await state(a)).toEqual(before);
    expect(before.order.status).toBe('pending');
    expect(before.attempt.status).toBe('open');
    if (verified) {
      expect(await eventCount()).toBe(n0 + 1);
      const ev = await db.selectFrom('payment_events').selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
      expect(ev.source).toBe('notify');
      expect(ev.outcome).toBe('rejected');
      expect(ev.detail).toMatch(code);
    } else {
      // Anyone could have sent it: counted (written now or by the next flush), never an audit row.
      await waitFor(async () => (await refusedHits(code)) === hits0 + 1, 15_000, 'the refusal to be counted');
      expect(await eventCount()).toBe(n0);
    }
  });

  it('applies a valid notify once, answering the exact SUCCESS XML with 200 and an XML content type', async () => {
    const a = await insertOrder(db, { amountFen: 6800, sku: 'green-tea' });
    const body = signedPaymentNotify({ out_trade_no: a.outTradeNo, total_fee: '6800', transaction_id: '4200000000000000000000000001', time_end: '20261122203000' }, key);
    const r = await post(url, body);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^(text|application)\/xml/);
    expect(await r.text()).toBe(SUCCESS);
    const s = await state(a);
    expect(s.order).toMatchObject({ status: 'paid', transaction_id: '4200000000000000000000000001', paid_at: '2026-11-22T12:30:00.000Z' });
    expect(s.attempt).toMatchObject({ status: 'paid', transaction_id: '4200000000000000000000000001' });
    const again = await post(url, body);
    expect(await again.text()).toBe(SUCCESS);
    const evs = await db.selectFrom('payment_events').select(['outcome', 'raw']).where('out_trade_no', '=', a.outTradeNo).orderBy('at').execute();
    expect(evs.map((e) => e.outcome)).toEqual(['applied', 'duplicate']);
    expect(evs[0].raw).toBe(body);
  });

  it('a repeat of an applied payment leaves one duplicate row (transaction, raw body); a repeat that does not match it is refused, not a repeat', async () => {
    const a = await insertOrder(db, { amountFen: 300 });
    const body = signedPaymentNotify({ out_trade_no: a.outTradeNo, total_fee: '300', transaction_id: '4200000000000000000000000777' }, key);
    expect(await (await post(url, body)).text()).toBe(SUCCESS);
    // WeChat resends the same notify until it reads SUCCESS (docs/wechatpay-v2.md): SUCCESS again, nothing changes.
    const before = await state(a);
    expect(await (await post(url, body)).text()).toBe(SUCCESS);
    expect(await state(a)).toEqual(before);
    // Signed, for the paid attempt, but another amount or currency: WeChat's word does not match the attempt.
    const otherAmount = signedPaymentNotify({ out_trade_no: a.outTradeNo, total_fee: '301', transaction_id: '4200000000000000000000000777' }, key);
    expect(await (await post(url, otherAmount)).text()).toContain('<return_code><![CDATA[FAIL]]></return_code>');
    const usd = signedPaymentNotify({ out_trade_no: a.outTradeNo, total_fee: '300', fee_type: 'USD', transaction_id: '4200000000000000000000000777' }, key);
    expect(await (await post(url, usd)).text()).toContain('<return_code><![CDATA[FAIL]]></return_code>');
    const evs = await db.selectFrom('payment_events').selectAll().where('out_trade_no', '=', a.outTradeNo).orderBy('at').orderBy('id').execute();
    expect(evs.map((e) => [e.source, e.outcome])).toEqual([['notify', 'applied'], ['notify', 'duplicate'], ['notify', 'rejected'], ['notify', 'rejected']]);
    expect(evs[1]).toMatchObject({
      order_id: a.orderId, raw: body, detail: `attempt ${a.outTradeNo} already paid (transaction 4200000000000000000000000777): nothing changed`,
    });
    expect(evs[2].detail).toMatch(/^AMOUNT_MISMATCH: total_fee 301 /);
    expect(evs[3].detail).toMatch(/^NOT_CNY: fee_type=USD/);
    expect(await state(a)).toEqual(before);
  });

  it('applies a notify without fee_type and cash_fee_type (WeChat\'s default currency is CNY)', async () => {
    const a = await insertOrder(db);
    expect(await (await post(url, signedPaymentNotify({ out_trade_no: a.outTradeNo, fee_type: '', cash_fee_type: '' }, key))).text()).toBe(SUCCESS);
    expect((await state(a)).order.status).toBe('paid');
  });

  it('verifies an HMAC-SHA256 notify by the sign_type it carries', async () => {
    const a = await insertOrder(db);
    const r = await post(url, signedPaymentNotify({ out_trade_no: a.outTradeNo }, { ...key, signType: 'HMAC-SHA256', includeSignType: true }));
    expect(await r.text()).toBe(SUCCESS);
    expect((await state(a)).order.status).toBe('paid');
  });

  it('50 concurrent copies of one notify: all SUCCESS, exactly one applied event', async () => {
    const a = await insertOrder(db);
    const body = signedPaymentNotify({ out_trade_no: a.outTradeNo }, key);
    const replies = await Promise.all(Array.from({ length: 50 }, () => post(url, body).then(async (r) => [r.status, await r.text()] as const)));
    expect(replies.every(([s, t]) => s === 200 && t === SUCCESS)).toBe(true);
    const evs = await db.selectFrom('payment_events').select(['outcome']).where('out_trade_no', '=', a.outTradeNo).execute();
    expect(evs.filter((e) => e.outcome === 'applied')).toHaveLength(1);
    expect(evs.filter((e) => e.outcome === 'duplicate')).toHaveLength(49);
    expect((await state(a)).order.status).toBe('paid');
  });
});

describe('payment notify with HMAC-SHA256 configured', () => {
  let app: AppServer;
  let h: DbHandle;
  beforeAll(async () => {
    app = await startApp({ engine: 'sqlite', env: { RECONCILE_INTERVAL_MS: '0', WECHATPAY_SIGN_TYPE: 'HMAC-SHA256' } });
    h = openDb(app.databaseUrl);
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });

  it('verifies a notify without sign_type (as WeChat sends it) with the configured HMAC-SHA256, not MD5', async () => {
    const url = `${app.baseUrl}/api/wechatpay/notify`;
    const a = await insertOrder(h.db);
    const md5 = await post(url, signedPaymentNotify({ out_trade_no: a.outTradeNo }, { ...key, signType: 'MD5' }));
    expect(await md5.text()).toContain('FAIL');
    const hmac = await post(url, signedPaymentNotify({ out_trade_no: a.outTradeNo }, { ...key, signType: 'HMAC-SHA256' }));
    expect(await hmac.text()).toBe(SUCCESS);
    expect((await h.db.selectFrom('orders').select('status').where('id', '=', a.orderId).executeTakeFirstOrThrow()).status).toBe('paid');
    const evs = await h.db.selectFrom('payment_events').select(['outcome', 'detail']).where('out_trade_no', '=', a.outTradeNo).orderBy('at').execute();
    expect(evs.map((e) => e.outcome)).toEqual(['applied']);
    // The MD5-signed one did not verify: counted, with why, and the order it claimed.
    const refused = await waitFor(() => h.db.selectFrom('refused_notifies').selectAll().where('code', '=', 'BAD_SIGN').executeTakeFirst(), 15_000, 'the BAD_SIGN count');
    expect(refused).toMatchObject({ source: 'notify', hits: 1, claimed: a.outTradeNo });
    expect(refused.detail).toMatch(/^BAD_SIGN: .*used HMAC-SHA256/);
  });
});
