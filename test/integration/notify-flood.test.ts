import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_API_KEY, SANDBOX_APPID, SANDBOX_MCH_ID } from '@/lib/config';
import { type DbHandle, openDb } from '@/lib/db';
import { ENGINES } from '../helpers/db';
import { insertOrder, type TestAttempt, waitFor } from '../helpers/orders';
import { type AppServer, startApp } from '../helpers/server';
import { encryptedRefundNotify, signedPaymentNotify } from '../helpers/wechatpay-fixtures';

const SUCCESS = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
const key = { apiKey: SANDBOX_API_KEY };

type Refused = {
  sinceHours: number;
  totals: { notify: number; refund_notify: number };
  rows: Array<{ source: string; code: string; hits: number; detail: string; sample: string | null; lastSender: string | null; claimed: string | null }>;
};

/**
 * A flood of unsigned and malformed notifies (issue 11): valid notifies sent in the middle of it still
 * apply, the junk never reaches payment_events or an order's timeline, and what is stored of it is a
 * handful of aggregate rows whose number and size do not grow with the number of requests.
 */
describe.each(ENGINES)('notify flood on %s', (engine) => {
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

  const notifyUrl = () => `${app.baseUrl}/api/wechatpay/notify`;
  const refundUrl = () => `${app.baseUrl}/api/wechatpay/refund-notify`;
  const refused = async (query = ''): Promise<Refused> => {
    const r = await fetch(`${app.baseUrl}/api/merchant/refused-notifies${query}`, { headers: { cookie: merchant } });
    expect(r.status).toBe(200);
    return r.json() as Promise<Refused>;
  };
  /** What the aggregate rows hold: their number and the characters of every text column. */
  const stored = async () => {
    const rows = await h.db.selectFrom('refused_notifies').selectAll().execute();
    const chars = rows.reduce((n, r) => n + r.detail.length + (r.sample?.length ?? 0) + (r.claimed?.length ?? 0) + (r.last_sender?.length ?? 0) + r.code.length + r.bucket.length, 0);
    return { rows: rows.length, pairs: new Set(rows.map((r) => `${r.source}|${r.code}`)).size, chars };
  };

  /** Seven kinds of junk, each claiming its own address in X-Forwarded-For (a flooder rotating it; ignored). */
  const wrongKeyRefund = encryptedRefundNotify({ refund_fee: '1' }, { apiKey: 'z'.repeat(32), appId: SANDBOX_APPID, mchId: SANDBOX_MCH_ID });
  const junk = (i: number, victims: TestAttempt[]): Promise<Response> => {
    const headers = { 'content-type': 'text/xml', 'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` };
    switch (i % 7) {
      case 0: // a forged notify naming a real order, signed with the wrong key
        return fetch(notifyUrl(), { method: 'POST', headers, body: signedPaymentNotify({ out_trade_no: victims[i % victims.length].outTradeNo }, { apiKey: 'x'.repeat(32) }) });
      case 1: // 12 KB that is not XML
        return fetch(notifyUrl(), { method: 'POST', headers, body: `<xml><a>${'ä'.repeat(4000)}</a>` });
      case 2: // XML without a sign, claiming an order
        return fetch(notifyUrl(), { method: 'POST', headers, body: `<xml><return_code>SUCCESS</return_code><out_trade_no>${victims[i % victims.length].outTradeNo}</out_trade_no></xml>` });
      case 3:
        return fetch(notifyUrl(), { headers });
      case 4:
        return fetch(refundUrl(), { method: 'POST', headers, body: '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><return_code>&x;</return_code></xml>' });
      case 5:
        return fetch(refundUrl(), { method: 'POST', headers, body: wrongKeyRefund });
      default:
        return fetch(notifyUrl(), { method: 'POST', headers, body: '' });
    }
  };

  /** Sends junk numbered [from, to) with `parallel` in flight, and each `valid` notify once the flood is under way. */
  async function flood(from: number, to: number, victims: TestAttempt[], valid: Array<() => Promise<void>> = []) {
    let next = from;
    const every = Math.floor((to - from) / (valid.length + 1));
    const pending: Promise<void>[] = [];
    const worker = async () => {
      while (next < to) {
        const i = next++;
        const k = (i - from) / every - 1;
        if (Number.isInteger(k) && k >= 0 && k < valid.length) pending.push(valid[k]());
        const r = await junk(i, victims);
        expect(await r.text()).toContain('<return_code><![CDATA[FAIL]]></return_code>');
      }
    };
    await Promise.all(Array.from({ length: 25 }, worker));
    await Promise.all(pending);
  }

  it('1,500 junk requests in parallel with 20 valid notifies: every valid one applies, the junk leaves a few bounded rows', async () => {
    const orders = await Promise.all(Array.from({ length: 20 }, () => insertOrder(h.db)));
    const eventsBefore = await h.db.selectFrom('payment_events').select('id').execute();

    await flood(0, 300, orders);
    // Not one row per request: unverified junk never reaches the audit log.
    const rejected = () => h.db.selectFrom('payment_events').select('id').where('outcome', '=', 'rejected').execute();
    expect((await rejected()).length).toBe(0);
    const afterFirst = await waitFor(async () => {
      const r = await refused();
      return r.totals.notify + r.totals.refund_notify === 300 ? stored() : undefined;
    }, 20_000, 'the first 300 hits counted');

    const replies: string[] = [];
    const valid = orders.map((o) => async () => {
      const r = await fetch(notifyUrl(), { method: 'POST', headers: { 'content-type': 'text/xml' }, body: signedPaymentNotify({ out_trade_no: o.outTradeNo }, key) });
      replies.push(await r.text());
    });
    await flood(300, 1500, orders, valid);

    // Every valid notify answered SUCCESS and its order is paid, with exactly one event: `applied`.
    expect(replies).toHaveLength(20);
    expect(replies.every((t) => t === SUCCESS)).toBe(true);
    for (const o of orders) {
      const order = await h.db.selectFrom('orders').select('status').where('id', '=', o.orderId).executeTakeFirstOrThrow();
      expect(order.status).toBe('paid');
    }
    const events = await h.db.selectFrom('payment_events').select(['outcome', 'source']).where('id', 'not in', eventsBefore.length ? eventsBefore.map((e) => e.id) : ['-']).execute();
    expect(events.filter((e) => e.outcome === 'rejected')).toEqual([]);
    expect(events.map((e) => e.outcome)).toEqual(Array(20).fill('applied'));

    // The junk named those orders, but it proved nothing: their timelines show only the payment.
    const detail = await (await fetch(`${app.baseUrl}/api/merchant/orders/${orders[0].orderId}`, { headers: { cookie: merchant } })).json();
    expect(detail.events.map((e: { outcome: string }) => e.outcome)).toEqual(['applied']);

    // Every hit is counted...
    const all = await waitFor(async () => {
      const r = await refused();
      return r.totals.notify + r.totals.refund_notify === 1500 ? r : undefined;
    }, 20_000, 'all 1,500 hits counted');
    const expected = { notify: 0, refund_notify: 0 };
    for (let i = 0; i < 1500; i++) expected[i % 7 === 4 || i % 7 === 5 ? 'refund_notify' : 'notify']++;
    expect(all.totals).toEqual(expected);
    const codes: Record<string, Refused['rows'][number]> = {};
    for (const r of all.rows) codes[`${r.source}|${r.code}`] = r;
    expect(Object.keys(codes).sort()).toEqual([
      'notify|BAD_SIGN', 'notify|METHOD_NOT_ALLOWED', 'notify|MISSING_SIGN', 'notify|XML_EMPTY', 'notify|XML_MALFORMED',
      'refund_notify|DECRYPT_FAILED', 'refund_notify|XML_DOCTYPE',
    ]);
    // ...and what is kept of a body is its head: 256 bytes at most, whatever was sent.
    for (const r of all.rows) if (r.sample) expect(Buffer.byteLength(r.sample.replace(/\[\.\.\. \d+ more bytes\]$/, ''))).toBeLessThanOrEqual(256);
    expect(codes['notify|XML_MALFORMED'].sample).toMatch(/\[\.\.\. \d+ more bytes\]$/);
    expect(codes['notify|BAD_SIGN'].claimed).toMatch(/^P\d{14}/);
    // The sender is the socket address: the rotated X-Forwarded-For values are the client's own words.
    expect(codes['notify|BAD_SIGN'].lastSender).toBe('127.0.0.1');

    // ...in a few rows: one per route and code (per hour), the same number and size after 1,500 as after 300.
    const final = await stored();
    expect(final.pairs).toBe(7);
    expect(final.pairs).toBe(afterFirst.pairs);
    expect(final.rows).toBeLessThanOrEqual(2 * final.pairs); // an hour may turn during the run
    expect(final.chars).toBeLessThan(final.rows * 700);
    expect(final.chars).toBeLessThan(8 * 1024);
    // Only the last sender and claimed id change between flushes: a few characters per row.
    if (final.rows === afterFirst.rows) expect(Math.abs(final.chars - afterFirst.chars)).toBeLessThan(final.rows * 40);
  });

  it('GET /api/merchant/refused-notifies: merchant only, ?hours checked', async () => {
    expect((await fetch(`${app.baseUrl}/api/merchant/refused-notifies`)).status).toBe(401);
    for (const bad of ['0', 'abc', '721', '1.5']) {
      const r = await fetch(`${app.baseUrl}/api/merchant/refused-notifies?hours=${bad}`, { headers: { cookie: merchant } });
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    }
    expect((await refused('?hours=720')).sinceHours).toBe(720);
    if (engine === 'sqlite') {
      // The database file itself: a further 700 junk requests add no pages.
      const pages = async () => Number((await sql<{ page_count: number }>`pragma page_count`.execute(h.db)).rows[0].page_count);
      const victims = [await insertOrder(h.db)];
      const p0 = await pages();
      await flood(1500, 2200, victims);
      await waitFor(async () => {
        const r = await refused();
        return r.totals.notify + r.totals.refund_notify === 2200;
      }, 20_000, 'the extra hits counted');
      expect(await pages()).toBeLessThanOrEqual(p0 + 2);
    }
  });
});
