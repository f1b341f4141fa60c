import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import type { Database } from '@/lib/db/schema';
import { SANDBOX_API_KEY, SANDBOX_APPID, SANDBOX_MCH_ID } from '@/lib/config';
import { ENGINES } from '../helpers/db';
import { placeSandboxAttempt, sandboxPay, type TestAttempt, waitFor } from '../helpers/orders';
import { actAsInstanceOf } from '../helpers/in-process';
import { type AppServer, startApp } from '../helpers/server';
import { encryptedRefundNotify } from '../helpers/wechatpay-fixtures';
import type { WxRefundReqInfo } from '@/lib/wechatpay/types';
import { sandboxSecrets, STRANGER_KEY, v3Notify, VERSIONS } from '../helpers/v3';

const SUCCESS = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
const ids = { apiKey: SANDBOX_API_KEY, appId: SANDBOX_APPID, mchId: SANDBOX_MCH_ID };

/**
 * Refunds: requestRefund runs here in the test process, configured exactly like the app (its database,
 * its sandbox as WeChat, its URL for the refund notify), so the refund goes through the sandbox's refund
 * API and comes back as a real refund notify to the app's route.
 */
/** Every engine on both protocols: the same refund flows through v2 (XML, mutual TLS live) and v3 (JSON, RSA). */
const SUITES = ENGINES.flatMap((engine) => VERSIONS.map((version) => [engine, version] as const));

describe.each(SUITES)('refunds on %s, API %s', (engine, version) => {
  let app: AppServer;
  let h: DbHandle;
  let db: Kysely<Database>;
  let refunds: typeof import('@/lib/checkout/refunds');

  beforeAll(async () => {
    app = await startApp({ engine, env: { RECONCILE_INTERVAL_MS: '200', RECONCILE_GRACE_MS: '1000', WECHATPAY_API_VERSION: version } });
    h = openDb(app.databaseUrl);
    db = h.db;
    actAsInstanceOf(app, h, { WECHATPAY_API_VERSION: version });
    refunds = await import('@/lib/checkout/refunds');
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });

  const order = (a: TestAttempt) => db.selectFrom('orders').selectAll().where('id', '=', a.orderId).executeTakeFirstOrThrow();
  const paidOrder = async (amountFen: number) => {
    const a = await placeSandboxAttempt(app, db, { amountFen, sku: 'green-tea', protocol: version });
    await sandboxPay(app.baseUrl, a.codeUrl!);
    await waitFor(async () => (await order(a)).status === 'paid', 15_000, 'the payment');
    return a;
  };
  const settled = (outRefundNo: string) =>
    waitFor(async () => {
      const r = await db.selectFrom('refunds').selectAll().where('out_refund_no', '=', outRefundNo).executeTakeFirstOrThrow();
      return r.status !== 'processing' ? r : undefined;
    }, 15_000, `refund ${outRefundNo} to settle`);

  it('partial then full merchant refund through the sandbox; never more than was paid', async () => {
    const a = await paidOrder(6800);
    const r1 = await refunds.requestRefund({ orderId: a.orderId, amountFen: 1800, reason: '少发一件', origin: 'merchant' });
    expect(r1.ok).toBe(true);
    if (!r1.ok) return;
    // Accepted, not done (the sandbox's refund notify may already have settled it by now).
    expect(['processing', 'succeeded']).toContain(r1.refund.status);
    expect(r1.refund.refund_id).toBeTruthy();
    expect((await settled(r1.refund.out_refund_no)).status).toBe('succeeded');
    expect(await order(a)).toMatchObject({ status: 'partially_refunded', refunded_fen: 1800 });

    const over = await refunds.requestRefund({ orderId: a.orderId, amountFen: 5001, reason: 'x', origin: 'merchant' });
    expect(over).toMatchObject({ ok: false, code: 'AMOUNT_EXCEEDS' });
    expect(over.ok ? '' : over.message).toContain('5000 fen left');

    const r2 = await refunds.requestRefund({ orderId: a.orderId, amountFen: 5000, reason: '全部退款', origin: 'merchant' });
    expect(r2.ok).toBe(true);
    if (!r2.ok) return;
    expect((await settled(r2.refund.out_refund_no)).status).toBe('succeeded');
    expect(await order(a)).toMatchObject({ status: 'refunded', refunded_fen: 6800 });
    expect(await refunds.requestRefund({ orderId: a.orderId, amountFen: 1, reason: 'x', origin: 'merchant' })).toMatchObject({ ok: false, code: 'AMOUNT_EXCEEDS' });
    expect(await db.selectFrom('refunds').select('amount_fen').where('order_id', '=', a.orderId).execute()).toHaveLength(2);
  });

  it('concurrent full refunds of one order: exactly one is accepted', async () => {
    const a = await paidOrder(4500);
    const results = await Promise.all(Array.from({ length: 8 }, () => refunds.requestRefund({ orderId: a.orderId, amountFen: 4500, reason: 'x', origin: 'merchant' })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.code === 'AMOUNT_EXCEEDS')).toBe(true);
    const rows = await db.selectFrom('refunds').selectAll().where('order_id', '=', a.orderId).execute();
    expect(rows).toHaveLength(1);
    await settled(rows[0].out_refund_no);
    expect(await order(a)).toMatchObject({ status: 'refunded', refunded_fen: 4500 });
  });

  it('refuses bad amounts and unpaid orders, changing nothing', async () => {
    const a = await placeSandboxAttempt(app, db, { protocol: version });
    for (const amountFen of [0, -1, 1.5, Number.NaN]) {
      expect(await refunds.requestRefund({ orderId: a.orderId, amountFen, reason: 'x', origin: 'merchant' })).toMatchObject({ ok: false, code: 'BAD_AMOUNT' });
    }
    expect(await refunds.requestRefund({ orderId: a.orderId, amountFen: 1, reason: 'x', origin: 'merchant' })).toMatchObject({ ok: false, code: 'NOT_PAID' });
    expect(await refunds.requestRefund({ orderId: 'o_nope', amountFen: 1, reason: 'x', origin: 'merchant' })).toMatchObject({ ok: false, code: 'ORDER_NOT_FOUND' });
    expect(await db.selectFrom('refunds').selectAll().where('order_id', '=', a.orderId).execute()).toEqual([]);
  });

  it('a lost refund notify is made up by the reconciler with refundquery', async () => {
    const a = await paidOrder(6800);
    await fetch(`${app.baseUrl}/sandbox/sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault: 'DROP_NOTIFY', count: 1 }) });
    const r = await refunds.requestRefund({ orderId: a.orderId, amountFen: 6800, reason: 'x', origin: 'merchant' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect((await settled(r.refund.out_refund_no)).status).toBe('succeeded');
    const evs = await db.selectFrom('payment_events').select(['source', 'outcome']).where('order_id', '=', a.orderId).where('source', 'in', ['refund', 'refund_notify']).execute();
    expect(evs.filter((e) => e.outcome === 'applied').map((e) => e.source)).toEqual(['refund', 'refund']); // requested, then settled by refundquery
    expect(await order(a)).toMatchObject({ status: 'refunded', refunded_fen: 6800 });
  });

  // Each protocol's notify cases are registered only on its own suites (not skipped on the other).
  if (version === 'v2') describe('refund notify route (v2 XML)', () => {
    const url = () => `${app.baseUrl}/api/wechatpay/refund-notify`;
    const post = (body: string) => fetch(url(), { method: 'POST', headers: { 'content-type': 'text/xml' }, body }).then(async (r) => ({ status: r.status, text: await r.text() }));
    /** A paid order with a processing refund row, made directly (no sandbox refund: only the notify moves it). */
    const withRefund = async (amountFen: number, origin = 'merchant') => {
      const a = await paidOrder(6800);
      const outRefundNo = `RT${Date.now()}${Math.floor(Math.random() * 1e6)}`;
      // Dated ahead so the reconciler (which follows refunds older than its grace) leaves it to the notify.
      const later = new Date(Date.now() + 3_600_000).toISOString();
      await db.insertInto('refunds').values({
        out_refund_no: outRefundNo, order_id: a.orderId, out_trade_no: a.outTradeNo, amount_fen: amountFen, reason: 't', origin,
        status: 'processing', refund_id: null, detail: null, created_at: later, updated_at: later,
      }).execute();
      const { transaction_id: txn } = await db.selectFrom('payment_attempts').select('transaction_id').where('out_trade_no', '=', a.outTradeNo).executeTakeFirstOrThrow();
      // One refund_id per refund, as WeChat keeps it: a later notify naming another one is refused.
      return { a, outRefundNo, txn: txn!, refundId: `503${Date.now()}${Math.floor(Math.random() * 1e9)}` };
    };
    type R = { a: TestAttempt; outRefundNo: string; txn: string; refundId: string };
    /** The refund notify WeChat would send for this refund: its ids, its amount, and `info` on top. */
    const notifyFor = (r: R, amountFen: number, info: Partial<WxRefundReqInfo> = {}) =>
      encryptedRefundNotify({ out_refund_no: r.outRefundNo, out_trade_no: r.a.outTradeNo, transaction_id: r.txn, refund_id: r.refundId, refund_fee: String(amountFen), total_fee: '6800', ...info }, ids);
    const events = (outTradeNo: string) => db.selectFrom('payment_events').select(['outcome', 'detail']).where('out_trade_no', '=', outTradeNo).where('source', '=', 'refund_notify').execute();

    it('applies once; repeats (10 at a time) answer SUCCESS and change nothing', async () => {
      const r = await withRefund(800);
      const { a } = r;
      const body = notifyFor(r, 800);
      expect(await post(body)).toEqual({ status: 200, text: SUCCESS });
      const again = await Promise.all(Array.from({ length: 10 }, () => post(body)));
      expect(again.every((r) => r.text === SUCCESS)).toBe(true);
      expect(await order(a)).toMatchObject({ status: 'partially_refunded', refunded_fen: 800 });
      const evs = await events(a.outTradeNo);
      expect(evs.filter((e) => e.outcome === 'applied')).toHaveLength(1);
      expect(evs.filter((e) => e.outcome === 'duplicate')).toHaveLength(10);
    });

    // The last flag: whether req_info decrypted (WeChat's word: an event) or not (anyone's: only counted).
    it.each([
      ['wrong appid', (r: R) => encryptedRefundNotify({ out_refund_no: r.outRefundNo, out_trade_no: r.a.outTradeNo, transaction_id: r.txn, refund_fee: '800' }, { ...ids, appId: 'wx0000000000000000' }), /^APPID_MISMATCH/, true],
      ['wrong mch_id', (r: R) => encryptedRefundNotify({ out_refund_no: r.outRefundNo, out_trade_no: r.a.outTradeNo, transaction_id: r.txn, refund_fee: '800' }, { ...ids, mchId: '19999999' }), /^MCHID_MISMATCH/, true],
      ['encrypted with another key', (r: R) => encryptedRefundNotify({ out_refund_no: r.outRefundNo, out_trade_no: r.a.outTradeNo, transaction_id: r.txn, refund_fee: '800' }, { ...ids, apiKey: 'y'.repeat(32) }), /^DECRYPT_FAILED/, false],
      ['wrong refund_fee', (r: R) => notifyFor(r, 801), /^AMOUNT_MISMATCH/, true],
      ['unknown out_refund_no', (r: R) => notifyFor(r, 800, { out_refund_no: 'RNOSUCHREFUND' }), /^UNKNOWN_OUT_REFUND_NO/, true],
      ['DOCTYPE', () => '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><return_code>&x;</return_code></xml>', /^XML_DOCTYPE/, false],
      // Matched on out_refund_no alone, these settled the refund before issue 11.
      ['another out_trade_no', (r: R) => notifyFor(r, 800, { out_trade_no: 'P20260101000000SOMEONEELSE' }), /^OUT_TRADE_NO_MISMATCH/, true],
      ['another transaction_id', (r: R) => notifyFor(r, 800, { transaction_id: '4200000000000000000000000099' }), /^TRANSACTION_ID_MISMATCH/, true],
      ['another total_fee', (r: R) => notifyFor(r, 800, { total_fee: '6801' }), /^AMOUNT_MISMATCH: total_fee/, true],
      ['no transaction_id', (r: R) => notifyFor(r, 800, { transaction_id: '' }), /^BAD_FIELDS: req_info lacks transaction_id/, true],
      ['no refund_fee', (r: R) => notifyFor(r, 800, { refund_fee: '', settlement_refund_fee: '' }), /^BAD_FIELDS: req_info lacks refund_fee/, true],
    ])('refuses %s: FAIL, refund and order unchanged, the reason kept', async (_name, make, code, verified) => {
      const r0 = await withRefund(800);
      const { a, outRefundNo } = r0;
      const before = await order(a);
      const rejectedEvents = () => db.selectFrom('payment_events').select('detail').where('source', '=', 'refund_notify').where('outcome', '=', 'rejected').orderBy('at', 'desc').execute();
      const counted = async () => (await db.selectFrom('refused_notifies').select(['detail', 'hits']).where('source', '=', 'refund_notify').execute())
        .filter((row) => code.test(row.detail)).reduce((n, row) => n + Number(row.hits), 0);
      const n0 = (await rejectedEvents()).length;
      const hits0 = await counted();
      const r = await post(make(r0));
      expect(r.status).toBe(200);
      expect(r.text).toContain('<return_code><![CDATA[FAIL]]></return_code>');
      expect(await order(a)).toEqual(before);
      expect((await db.selectFrom('refunds').select('status').where('out_refund_no', '=', outRefundNo).executeTakeFirstOrThrow()).status).toBe('processing');
      if (verified) {
        const rejected = await rejectedEvents();
        expect(rejected.length).toBe(n0 + 1);
        expect(rejected[0].detail).toMatch(code);
      } else {
        await waitFor(async () => (await counted()) === hits0 + 1, 15_000, 'the refusal to be counted');
        expect((await rejectedEvents()).length).toBe(n0);
      }
    });

    it('REFUNDCLOSE fails the refund and frees the amount; a duplicate-payment refund never marks the order refunded', async () => {
      const r = await withRefund(6800);
      const { a, outRefundNo } = r;
      expect(await post(notifyFor(r, 6800, { refund_status: 'REFUNDCLOSE' }))).toEqual({ status: 200, text: SUCCESS });
      expect((await db.selectFrom('refunds').select('status').where('out_refund_no', '=', outRefundNo).executeTakeFirstOrThrow()).status).toBe('failed');
      expect(await order(a)).toMatchObject({ status: 'paid', refunded_fen: 0 });
      expect(await refunds.refundableFen(db, await order(a))).toBe(6800);

      const dup = await withRefund(6800, 'duplicate');
      expect(await post(notifyFor(dup, 6800))).toEqual({ status: 200, text: SUCCESS });
      expect((await db.selectFrom('refunds').select('status').where('out_refund_no', '=', dup.outRefundNo).executeTakeFirstOrThrow()).status).toBe('succeeded');
      expect(await order(dup.a)).toMatchObject({ status: 'paid', refunded_fen: 0 });
    });

    it('CHANGE (退款异常) books the refund abnormal: not refunded, yet not offered again; the merchant page says what to do', async () => {
      const r = await withRefund(1800);
      const { a, outRefundNo } = r;
      const refundRow = () => db.selectFrom('refunds').selectAll().where('out_refund_no', '=', outRefundNo).executeTakeFirstOrThrow();
      expect(await post(notifyFor(r, 1800, { refund_status: 'CHANGE', refund_recv_accout: '招商银行借记卡1234' }))).toEqual({ status: 200, text: SUCCESS });
      expect(await refundRow()).toMatchObject({ status: 'abnormal', detail: expect.stringContaining('pay.weixin.qq.com') });
      // The money left the merchant's account but did not reach the buyer: not refunded_fen, yet taken from what is left.
      expect(await order(a)).toMatchObject({ status: 'paid', refunded_fen: 0 });
      expect(await refunds.refundableFen(db, await order(a))).toBe(5000);
      expect(await refunds.requestRefund({ orderId: a.orderId, amountFen: 5001, reason: 'x', origin: 'merchant' })).toMatchObject({ ok: false, code: 'AMOUNT_EXCEEDS' });
      // A repeat changes nothing.
      expect(await post(notifyFor(r, 1800, { refund_status: 'CHANGE' }))).toEqual({ status: 200, text: SUCCESS });
      expect((await refundRow()).status).toBe('abnormal');

      const login = await fetch(`${app.baseUrl}/api/merchant/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'sandbox' }) });
      expect(login.status).toBe(200);
      const cookie = login.headers.getSetCookie()[0].split(';')[0];
      const detail = await (await fetch(`${app.baseUrl}/api/merchant/orders/${a.orderId}`, { headers: { cookie } })).json();
      expect(detail.order).toMatchObject({ status: 'paid', refundedFen: 0, refundableFen: 5000 });
      expect(detail.refunds).toEqual([expect.objectContaining({ outRefundNo, status: 'abnormal', amountFen: 1800 })]);
      const page = async (lang: string) => (await fetch(`${app.baseUrl}/merchant/orders/${a.orderId}`, { headers: { cookie, 'accept-language': lang } })).text();
      const zh = await page('zh-CN');
      // The form offers what is left (50.00), not the full 68.00 again.
      expect(zh.match(/<input[^>]*data-testid="refund-amount"[^>]*>/)?.[0]).toContain('value="50.00"');
      expect(zh).toContain('data-testid="refund-abnormal-note"');
      expect(zh).toContain('退款异常');
      expect(zh).toContain('交易中心');
      expect(zh).toContain('请勿再次退款');
      expect(zh).toMatch(/<tr[^>]*data-testid="refund-row"[^>]*data-status="abnormal"/);
      const en = await page('en');
      expect(en).toContain('data-testid="refund-abnormal-note"');
      expect(en).toContain('do not refund it again');

      // The merchant settled it in the portal (to another card of the buyer): WeChat's later SUCCESS counts it as refunded.
      expect(await post(notifyFor(r, 1800, { refund_recv_accout: '建设银行借记卡5678' }))).toEqual({ status: 200, text: SUCCESS });
      expect(await refundRow()).toMatchObject({ status: 'succeeded', detail: 'refunded to 建设银行借记卡5678' });
      expect(await order(a)).toMatchObject({ status: 'partially_refunded', refunded_fen: 1800 });
      expect(await refunds.refundableFen(db, await order(a))).toBe(5000);
    });
  });
  /**
   * v3 refund notifies (REFUND.SUCCESS / ABNORMAL / CLOSED, docs/wechatpay-v3.md §4): signed like a
   * payment notify, the refund in an AES-GCM resource (AAD "refund"), applied by the same
   * applyRefundResult with the same matching as v2; 204 acknowledges, 4xx refuses.
   */
  if (version === 'v3') describe('refund notify route (v3 JSON)', () => {
    const url = () => `${app.baseUrl}/api/wechatpay/refund-notify`;
    const withRefund = async (amountFen: number) => {
      const a = await paidOrder(6800);
      const outRefundNo = `RV${Date.now()}${Math.floor(Math.random() * 1e6)}`;
      const later = new Date(Date.now() + 3_600_000).toISOString();
      await db.insertInto('refunds').values({
        out_refund_no: outRefundNo, order_id: a.orderId, out_trade_no: a.outTradeNo, amount_fen: amountFen, reason: 't', origin: 'merchant',
        status: 'processing', refund_id: null, detail: null, created_at: later, updated_at: later,
      }).execute();
      const { transaction_id: txn } = await db.selectFrom('payment_attempts').select('transaction_id').where('out_trade_no', '=', a.outTradeNo).executeTakeFirstOrThrow();
      return { a, outRefundNo, txn: txn!, refundId: `503${Date.now()}${Math.floor(Math.random() * 1e9)}` };
    };
    type R = Awaited<ReturnType<typeof withRefund>>;
    const resource = (r: R, amountFen: number, status = 'SUCCESS', extra: Record<string, unknown> = {}) => ({
      mchid: '10000100', out_trade_no: r.a.outTradeNo, transaction_id: r.txn, out_refund_no: r.outRefundNo, refund_id: r.refundId,
      refund_status: status, user_received_account: '支付用户零钱', amount: { total: 6800, refund: amountFen, payer_total: 6800, payer_refund: amountFen }, ...extra,
    });
    const send = async (n: { body: string; headers: Record<string, string> }) => {
      const res = await fetch(url(), { method: 'POST', headers: n.headers, body: n.body });
      return { status: res.status, text: await res.text() };
    };
    const notifyFor = (r: R, amountFen: number, status = 'SUCCESS', extra: Record<string, unknown> = {}, o: Parameters<typeof v3Notify>[2] = {}) =>
      v3Notify(sandboxSecrets(app), resource(r, amountFen, status, extra), { kind: 'refund', eventType: `REFUND.${status}`, ...o });
    const refundRow = (r: R) => db.selectFrom('refunds').selectAll().where('out_refund_no', '=', r.outRefundNo).executeTakeFirstOrThrow();

    it('REFUND.SUCCESS applies once; 10 concurrent repeats answer 204 and change nothing', async () => {
      const r = await withRefund(800);
      const n = notifyFor(r, 800);
      expect(await send(n)).toEqual({ status: 204, text: '' });
      const again = await Promise.all(Array.from({ length: 10 }, () => send(n)));
      expect(again.every((x) => x.status === 204)).toBe(true);
      expect(await refundRow(r)).toMatchObject({ status: 'succeeded', refund_id: r.refundId });
      expect(await order(r.a)).toMatchObject({ status: 'partially_refunded', refunded_fen: 800 });
      const evs = await db.selectFrom('payment_events').select(['outcome']).where('out_trade_no', '=', r.a.outTradeNo).where('source', '=', 'refund_notify').execute();
      expect(evs.filter((e) => e.outcome === 'applied')).toHaveLength(1);
      expect(evs.filter((e) => e.outcome === 'duplicate')).toHaveLength(10);
    });

    it('REFUND.CLOSED fails the refund and frees the amount; REFUND.ABNORMAL books it abnormal', async () => {
      const closed = await withRefund(6800);
      expect((await send(notifyFor(closed, 6800, 'CLOSED'))).status).toBe(204);
      expect((await refundRow(closed)).status).toBe('failed');
      expect(await refunds.refundableFen(db, await order(closed.a))).toBe(6800);
      const abnormal = await withRefund(1800);
      expect((await send(notifyFor(abnormal, 1800, 'ABNORMAL'))).status).toBe(204);
      expect((await refundRow(abnormal)).status).toBe('abnormal');
      expect(await order(abnormal.a)).toMatchObject({ status: 'paid', refunded_fen: 0 });
      expect(await refunds.refundableFen(db, await order(abnormal.a))).toBe(5000);
    });

    it.each([
      ['a bad signature', (r: R) => notifyFor(r, 800, 'SUCCESS', {}, { signWith: STRANGER_KEY }), 401],
      ['a bad GCM tag', (r: R) => notifyFor(r, 800, 'SUCCESS', {}, { apiV3Key: 'e'.repeat(32) }), 401],
      ['wrong mchid', (r: R) => notifyFor(r, 800, 'SUCCESS', { mchid: '19999999' }), 400],
      ['wrong amount', (r: R) => notifyFor(r, 801), 400],
      ['event_type contradicting refund_status', (r: R) => notifyFor(r, 800, 'SUCCESS', { refund_status: 'CLOSED' }), 400],
    ])('refuses %s: 4xx, refund and order unchanged', async (_name, make, status) => {
      const r = await withRefund(800);
      const before = await order(r.a);
      const res = await send(make(r));
      expect(res.status).toBe(status);
      expect(JSON.parse(res.text)).toMatchObject({ code: 'FAIL' });
      expect(await order(r.a)).toEqual(before);
      expect((await refundRow(r)).status).toBe('processing');
    });
  });
});
