import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_API_KEY, SANDBOX_APPID, SANDBOX_MCH_ID } from '@/lib/config';
import { type DbHandle, initDb } from '@/lib/db';
import { ENGINES, freshDatabaseUrl } from '../helpers/db';
import { actAsInstanceOf } from '../helpers/in-process';
import { insertOrder, type TestAttempt } from '../helpers/orders';
import type { AppServer } from '../helpers/server';
import { signedResponse } from '../helpers/wechatpay-fixtures';

/**
 * Signed WeChat Pay answers the sandbox never gives (a foreign currency, a refund ending CHANGE, ids
 * that are not the refund's): a small HTTP server stands in for api.mch.weixin.qq.com, and lib/checkout
 * (in this process, on a real database) reaches it over real HTTP through its own WeChat Pay client,
 * which verifies every answer's signature as it would WeChat's.
 */
const ids = { apiKey: SANDBOX_API_KEY, appId: SANDBOX_APPID, mchId: SANDBOX_MCH_ID };
const TXN = '4200000000000000000000000042';

describe.each(ENGINES)('WeChat answers the sandbox does not give, on %s', (engine) => {
  let h: DbHandle;
  let server: http.Server;
  /** What the stand-in answers, by API name (the last path segment); every call is recorded. */
  let answers: Partial<Record<string, () => Record<string, string | undefined>>> = {};
  const calls: string[] = [];
  let payments: typeof import('@/lib/checkout/payments');
  let refunds: typeof import('@/lib/checkout/refunds');
  let reconciler: typeof import('@/lib/checkout/reconciler');

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const api = (req.url ?? '').split('/').pop()!;
        calls.push(api);
        const answer = answers[api];
        res.writeHead(answer ? 200 : 404, { 'content-type': 'text/xml' });
        res.end(answer ? signedResponse(answer(), ids) : 'no answer set');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const standIn = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const url = await freshDatabaseUrl(engine);
    h = await initDb(url);
    // No app server: this process is the only instance; its sandbox-mode WeChat Pay client points at the stand-in.
    const self = { databaseUrl: url, baseUrl: 'http://127.0.0.1:9', port: 9 } as AppServer;
    actAsInstanceOf(self, h, { SANDBOX_MCH_BASE_URL: standIn });
    payments = await import('@/lib/checkout/payments');
    refunds = await import('@/lib/checkout/refunds');
    reconciler = await import('@/lib/checkout/reconciler');
  });
  afterAll(async () => {
    await h?.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
  beforeEach(() => {
    answers = {};
    calls.length = 0;
  });

  const order = (a: TestAttempt) => h.db.selectFrom('orders').selectAll().where('id', '=', a.orderId).executeTakeFirstOrThrow();
  const lastEvent = (a: TestAttempt) => h.db.selectFrom('payment_events').selectAll().where('out_trade_no', '=', a.outTradeNo).orderBy('at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
  const paidQuery = (a: TestAttempt, extra: Record<string, string> = {}) => () => ({
    trade_state: 'SUCCESS', out_trade_no: a.outTradeNo, transaction_id: TXN, total_fee: String(a.amountFen), cash_fee: String(a.amountFen),
    openid: 'oStandIn', trade_type: 'NATIVE', time_end: '20261122203000', ...extra,
  });

  it.each([
    ['fee_type USD', { fee_type: 'USD' }],
    ['cash_fee_type HKD', { fee_type: 'CNY', cash_fee_type: 'HKD' }],
  ])('orderquery answering %s is refused: the payment is not applied, one rejected event', async (_name, extra) => {
    const a = await insertOrder(h.db, { amountFen: 500 });
    answers.orderquery = paidQuery(a, extra);
    const r = await payments.confirmAttempt(a.outTradeNo, 'query');
    expect(r).toEqual({ state: 'SUCCESS', outcome: 'rejected' });
    expect(await order(a)).toMatchObject({ status: 'pending', transaction_id: null });
    expect((await h.db.selectFrom('payment_attempts').select('status').where('out_trade_no', '=', a.outTradeNo).executeTakeFirstOrThrow()).status).toBe('open');
    expect(await lastEvent(a)).toMatchObject({ source: 'query', outcome: 'rejected', detail: expect.stringMatching(/^NOT_CNY: /) });
  });

  it('orderquery answering CNY (or no fee_type at all) is applied', async () => {
    const a = await insertOrder(h.db, { amountFen: 500 });
    answers.orderquery = paidQuery(a, { fee_type: 'CNY', cash_fee_type: 'CNY' });
    expect(await payments.confirmAttempt(a.outTradeNo, 'query')).toEqual({ state: 'SUCCESS', outcome: 'applied' });
    const b = await insertOrder(h.db, { amountFen: 500 });
    answers.orderquery = paidQuery(b);
    expect(await payments.confirmAttempt(b.outTradeNo, 'query')).toEqual({ state: 'SUCCESS', outcome: 'applied' });
  });

  /** A paid order (transaction TXN) with one processing refund, created `agoMs` ago. */
  const withRefund = async (amountFen: number, agoMs = 0) => {
    const a = await insertOrder(h.db, { amountFen: 6800 });
    await h.db.updateTable('payment_attempts').set({ status: 'paid', transaction_id: TXN }).where('out_trade_no', '=', a.outTradeNo).execute();
    await h.db.updateTable('orders').set({ status: 'paid', transaction_id: TXN, paid_at: new Date().toISOString() }).where('id', '=', a.orderId).execute();
    const at = new Date(Date.now() - agoMs).toISOString();
    const outRefundNo = `RQ${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    await h.db.insertInto('refunds').values({
      out_refund_no: outRefundNo, order_id: a.orderId, out_trade_no: a.outTradeNo, amount_fen: amountFen, reason: 't', origin: 'merchant',
      status: 'processing', refund_id: '50300000000000000000000000001', detail: null, created_at: at, updated_at: at,
    }).execute();
    return { a, outRefundNo, refund: () => h.db.selectFrom('refunds').selectAll().where('out_refund_no', '=', outRefundNo).executeTakeFirstOrThrow() };
  };
  const refundQueryAnswer = (a: TestAttempt, outRefundNo: string, amountFen: number, status: string, extra: Record<string, string> = {}) => () => ({
    out_trade_no: a.outTradeNo, transaction_id: TXN, total_fee: '6800', cash_fee: '6800', refund_count: '1',
    out_refund_no_0: outRefundNo, refund_id_0: '50300000000000000000000000001', refund_fee_0: String(amountFen), refund_status_0: status,
    refund_recv_accout_0: '招商银行借记卡1234', ...extra,
  });

  it('refundquery answering CHANGE books the refund abnormal, still taken from what is left, and final for the reconciler', async () => {
    const { a, outRefundNo, refund } = await withRefund(1800, 60_000);
    answers.refundquery = refundQueryAnswer(a, outRefundNo, 1800, 'CHANGE');
    const note = await refunds.followRefund(await refund());
    expect(await refund()).toMatchObject({ status: 'abnormal', detail: expect.stringContaining('pay.weixin.qq.com') });
    expect(note).toBe(`${outRefundNo}: CHANGE (applied)`);
    const o = await order(a);
    expect(o).toMatchObject({ status: 'paid', refunded_fen: 0 });
    expect(await refunds.refundableFen(h.db, o)).toBe(5000);
    expect(await refunds.requestRefund({ orderId: a.orderId, amountFen: 5001, reason: 'x', origin: 'merchant' })).toMatchObject({ ok: false, code: 'AMOUNT_EXCEEDS' });

    // The sweep follows processing refunds only: an abnormal one waits for the merchant, nobody asks WeChat again.
    calls.length = 0;
    const { getConfig } = await import('@/lib/config');
    // A grace that takes in this 60 s old refund but none of the attempts this suite just made.
    await reconciler.reconcileOnce({ ...getConfig().reconcile, graceMs: 30_000 });
    expect(calls).toEqual([]);
    expect((await refund()).status).toBe('abnormal');
  });

  it('merchant sync re-asks about an abnormal refund: never resubmits it, and books it succeeded once WeChat says so', async () => {
    const { a, outRefundNo, refund } = await withRefund(1800);
    answers.refundquery = refundQueryAnswer(a, outRefundNo, 1800, 'CHANGE');
    await refunds.followRefund(await refund());
    expect((await refund()).status).toBe('abnormal');

    answers.refundquery = () => ({ result_code: 'FAIL', err_code: 'REFUNDNOTEXIST', err_code_des: '退款订单查询失败' });
    calls.length = 0;
    const r1 = await payments.syncOrder(a.orderId, 'merchant');
    expect(r1.ok && r1.notes.join(' ')).toContain('left abnormal');
    expect(calls).toEqual(['refundquery']); // no `refund` call: the money already left once
    expect((await refund()).status).toBe('abnormal');

    // The merchant settled it in the portal (to another card of the buyer): WeChat now says SUCCESS.
    answers.refundquery = refundQueryAnswer(a, outRefundNo, 1800, 'SUCCESS', { refund_recv_accout_0: '建设银行借记卡5678' });
    await payments.syncOrder(a.orderId, 'merchant');
    expect(await refund()).toMatchObject({ status: 'succeeded', detail: 'refunded to 建设银行借记卡5678' });
    expect(await order(a)).toMatchObject({ status: 'partially_refunded', refunded_fen: 1800 });
  });

  it.each([
    ['out_trade_no', { out_trade_no: 'P20260101000000SOMEONEELSE' }, /^OUT_TRADE_NO_MISMATCH: /],
    ['transaction_id', { transaction_id: '4200000000000000000000000099' }, /^TRANSACTION_ID_MISMATCH: /],
    ['total_fee', { total_fee: '6801' }, /^AMOUNT_MISMATCH: total_fee/],
    ['refund_id', { refund_id_0: '50300000000000000000000000777' }, /^REFUND_ID_MISMATCH: /],
  ])('refundquery naming another %s is refused: the refund stays processing, one rejected event', async (_field, extra, code) => {
    const { a, outRefundNo, refund } = await withRefund(1800);
    answers.refundquery = refundQueryAnswer(a, outRefundNo, 1800, 'SUCCESS', extra);
    const note = await refunds.followRefund(await refund());
    expect((await refund()).status).toBe('processing');
    expect(await order(a)).toMatchObject({ status: 'paid', refunded_fen: 0 });
    expect(await lastEvent(a)).toMatchObject({ source: 'refund', outcome: 'rejected', detail: expect.stringMatching(code) });
    expect(note).toMatch(new RegExp(`^${outRefundNo}: SUCCESS \\(rejected `));
  });
});
