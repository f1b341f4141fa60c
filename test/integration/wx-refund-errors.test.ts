import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_API_KEY, SANDBOX_APPID, SANDBOX_MCH_ID } from '@/lib/config';
import { type DbHandle, openDb } from '@/lib/db';
import type { Database } from '@/lib/db/schema';
import { WechatPayClient } from '@/lib/wechatpay/client';
import { formatWxTime } from '@/lib/wechatpay/time';
import { actAsInstanceOf, INSTANCE_ENV } from '../helpers/in-process';
import { placeSandboxAttempt, sandboxPay, type TestAttempt, waitFor } from '../helpers/orders';
import { clearFaults, type FaultBody, outTradeNo, sandboxOrder, setFaults, wxPost } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';

/*
 * Refund errors as WeChat answers them, and what the app does with each. Sources (found with `search`):
 * the refund page's error list (SYSTEMERROR, BIZERR_NEED_RETRY "并发情况下，业务被拒绝，商户重试即可解决",
 * NOTENOUGH, FREQUENCY_LIMITED, USER_ACCOUNT_ABNORMAL, INVALID_REQUEST, ORDERNOTEXIST ...) and what
 * merchants report on developers.weixin.qq.com: `NOTENOUGH 基本账户余额不足，请充值后重新发起` (a signed
 * result_code=FAIL), `INVALID_REQUEST - refund_fee大于可退金额`, `USER_ACCOUNT_ABNORMAL 用户账户异常或已注销，
 * 不能原路退回，请使用其他方式进行退款。`, `FREQUENCY_LIMITED 频率限制,超过2个月之前的订单申请退款请降低频率再重试`, and
 * ORDERNOTEXIST for a trade they could see in the portal. The v2 notes: "一笔退款失败后重新提交，请不要更换退款
 * 单号，请使用原商户退款单号" (retry with the SAME out_refund_no). refundquery: "offset 偏移量，当部分退款次数超过
 * 10次时可使用，表示返回的查询结果从这个偏移量开始取记录" with total_refund_count (wechatpay.im/openapi/v2/pay/refundquery,
 * the v2 page 9_5). The refund notify goes to the request's notify_url.
 */
describe('refund errors', () => {
  let app: AppServer;
  let h: DbHandle;
  let db: Kysely<Database>;
  let refunds: typeof import('@/lib/checkout/refunds');
  let reconciler: typeof import('@/lib/checkout/reconciler');
  beforeAll(async () => {
    for (const k of [...INSTANCE_ENV, 'SANDBOX_MCH_BASE_URL', 'WECHATPAY_API_KEY']) delete process.env[k];
    app = await startApp({ env: { RECONCILE_INTERVAL_MS: '0' } });
    h = openDb(app.databaseUrl);
    db = h.db;
    actAsInstanceOf(app, h, { SANDBOX_MCH_BASE_URL: `${app.baseUrl}/sandbox/mch` });
    refunds = await import('@/lib/checkout/refunds');
    reconciler = await import('@/lib/checkout/reconciler');
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });
  beforeEach(async () => clearFaults(app.baseUrl));

  const fault = (f: FaultBody['fault'], count = 1) => setFaults(app.baseUrl, { api: 'refund', fault: f, count });
  const paidOrder = async (amountFen = 100) => {
    const a = await placeSandboxAttempt(app, db, { amountFen });
    const paid = (await sandboxPay(app.baseUrl, a.codeUrl!)) as { transaction_id: string };
    await waitFor(async () => (await db.selectFrom('orders').select('status').where('id', '=', a.orderId).executeTakeFirstOrThrow()).status === 'paid', 15_000, 'the payment');
    return { ...a, transactionId: paid.transaction_id };
  };
  const raw = (a: TestAttempt, no: string, refundFee: string, over: Record<string, string | undefined> = {}) =>
    wxPost(app.baseUrl, 'refund', { out_trade_no: a.outTradeNo, out_refund_no: no, total_fee: String(a.amountFen), refund_fee: refundFee, ...over });
  const client = () => new WechatPayClient({ appId: SANDBOX_APPID, mchId: SANDBOX_MCH_ID, apiKey: SANDBOX_API_KEY, signType: 'MD5', baseUrl: `${app.baseUrl}/sandbox/mch`, retryDelayMs: 5 });
  const sweep = () => reconciler.reconcileOnce({ intervalMs: 1000, graceMs: 0, batch: 50 });
  const refundRow = (no: string) => db.selectFrom('refunds').selectAll().where('out_refund_no', '=', no).executeTakeFirstOrThrow();
  const atWechat = async (a: TestAttempt) => ((await sandboxOrder(app.baseUrl, a.outTradeNo))?.refunds ?? []) as Array<{ out_refund_no: string; status: string }>;

  it('raw HTTP: INVALID_REQUEST for more than is left and for changed amounts on one out_refund_no; ORDERNOTEXIST for an unpaid trade', async () => {
    const a = await paidOrder(100);
    const over = await raw(a, 'RO1', '101');
    expect(over.fields).toMatchObject({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'INVALID_REQUEST', err_code_des: '申请退款金额超过订单可退金额' });
    expect((await raw(a, 'RO2', '30')).fields.result_code).toBe('SUCCESS');
    expect((await raw(a, 'RO2', '31')).fields).toMatchObject({ err_code: 'INVALID_REQUEST', err_code_des: '订单金额或退款金额与之前请求不一致，请核实后再试' });
    const unpaid = { body: 'x', out_trade_no: outTradeNo('UP'), total_fee: '5', spbill_create_ip: '127.0.0.1', notify_url: 'http://127.0.0.1:9/n', trade_type: 'NATIVE', product_id: 'p', time_expire: formatWxTime(Date.now() + 10 * 60_000) };
    await wxPost(app.baseUrl, 'unifiedorder', unpaid);
    expect((await wxPost(app.baseUrl, 'refund', { out_trade_no: unpaid.out_trade_no, out_refund_no: 'RU1', total_fee: '5', refund_fee: '5' })).fields)
      .toMatchObject({ result_code: 'FAIL', err_code: 'ORDERNOTEXIST', err_code_des: '订单不存在' });
  });

  it.each([
    ['NOTENOUGH', '基本账户余额不足，请充值后重新发起'],
    ['BIZERR_NEED_RETRY', '退款业务流程错误，需要商户触发重试来解决'],
    ['FREQUENCY_LIMITED', '频率限制，超过2个月之前的订单申请退款请降低频率再重试'],
    ['USER_ACCOUNT_ABNORMAL', '用户账户异常或已注销，不能原路退回，请使用其他方式进行退款。'],
  ] as const)('fault %s: raw HTTP answers it signed; the same request then goes through', async (code, des) => {
    const a = await paidOrder(100);
    await fault(code);
    expect((await raw(a, `RF${code.slice(0, 4)}`, '10')).fields).toMatchObject({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: code, err_code_des: des });
    expect((await raw(a, `RF${code.slice(0, 4)}`, '10')).fields.result_code).toBe('SUCCESS');
  });

  it('client: NOTENOUGH is thrown at once (retry later, not now); BIZERR_NEED_RETRY is resent with the same body', async () => {
    const a = await paidOrder(100);
    await fault('NOTENOUGH');
    await expect(client().refund({ out_trade_no: a.outTradeNo, out_refund_no: 'RC1', total_fee: 100, refund_fee: 10 })).rejects.toMatchObject({ name: 'WechatPayApiError', code: 'NOTENOUGH' });
    expect(await atWechat(a)).toEqual([]);
    await fault('BIZERR_NEED_RETRY', 2);
    await expect(client().refund({ out_trade_no: a.outTradeNo, out_refund_no: 'RC1', total_fee: 100, refund_fee: 10 })).resolves.toMatchObject({ out_refund_no: 'RC1' });
  });

  it.each([['NOTENOUGH', 1], ['FREQUENCY_LIMITED', 1], ['BIZERR_NEED_RETRY', 3]] as const)(
    'app: %s (x%i) keeps the refund processing and says why; the reconciler re-sends the SAME out_refund_no: one refund at WeChat',
    async (code, count) => {
      const a = await paidOrder(100);
      await fault(code, count);
      const r = await refunds.requestRefund({ orderId: a.orderId, amountFen: 40, reason: 'x', origin: 'merchant' });
      expect(r).toMatchObject({ ok: true, confirmed: false, refund: { status: 'processing' } });
      if (!r.ok) return;
      expect(r.refund.detail).toContain(`not confirmed yet (${code}: `);
      const done = await waitFor(async () => {
        await sweep();
        const row = await refundRow(r.refund.out_refund_no);
        return row.status === 'succeeded' ? row : undefined;
      }, 15_000, 'the refund to succeed');
      expect(done.amount_fen).toBe(40);
      expect((await atWechat(a)).map((x) => x.out_refund_no)).toEqual([r.refund.out_refund_no]);
    },
  );

  it('app: USER_ACCOUNT_ABNORMAL is final: the refund fails with what to do, the amount is free again, nothing is resent', async () => {
    const a = await paidOrder(100);
    await fault('USER_ACCOUNT_ABNORMAL');
    const r = await refunds.requestRefund({ orderId: a.orderId, amountFen: 100, reason: 'x', origin: 'merchant' });
    expect(r).toMatchObject({ ok: false, code: 'USER_ACCOUNT_ABNORMAL' });
    if (r.ok) return;
    expect(r.message).toContain('用户账户异常或已注销');
    expect(r.message).toMatch(/refund the buyer another way/);
    const row = await db.selectFrom('refunds').selectAll().where('order_id', '=', a.orderId).executeTakeFirstOrThrow();
    expect(row.status).toBe('failed');
    await sweep();
    expect((await refundRow(row.out_refund_no)).status).toBe('failed');
    expect(await atWechat(a)).toEqual([]);
    // The whole amount may be refunded again (another way first, or here once the buyer's account is fixed).
    expect(await refunds.requestRefund({ orderId: a.orderId, amountFen: 100, reason: 'y', origin: 'merchant' })).toMatchObject({ ok: true });
  });

  it.each([['REFUNDCLOSE', 'failed'], ['CHANGE', 'abnormal']] as const)('fault %s: the refund ends that way at WeChat (refundquery, refund notify) and the app books it %s', async (f, booked) => {
    const a = await paidOrder(100);
    await fault(f);
    const r = await refunds.requestRefund({ orderId: a.orderId, amountFen: 60, reason: 'x', origin: 'merchant' });
    expect(r).toMatchObject({ ok: true, confirmed: true });
    if (!r.ok) return;
    const row = await waitFor(async () => {
      const x = await refundRow(r.refund.out_refund_no);
      return x.status !== 'processing' ? x : undefined;
    }, 15_000, 'the refund notify');
    expect(row.status).toBe(booked);
    const q = await client().refundQuery({ out_refund_no: r.refund.out_refund_no });
    expect(q.refund_status_0).toBe(f);
    const o = await sandboxOrder(app.baseUrl, a.outTradeNo);
    // A closed refund gives the amount back at WeChat; a CHANGE one left the merchant's account.
    expect(Number(o?.refunded_fee)).toBe(f === 'REFUNDCLOSE' ? 0 : 60);
  });

  it('the refund notify only when the request carried notify_url', async () => {
    const a = await paidOrder(100);
    expect((await raw(a, 'RN1', '10')).fields.result_code).toBe('SUCCESS');
    expect((await raw(a, 'RN2', '10', { notify_url: 'http://127.0.0.1:9/refund-notify' })).fields.result_code).toBe('SUCCESS');
    const o = await sandboxOrder(app.baseUrl, a.outTradeNo);
    const refundNotifies = (o?.deliveries as Array<{ kind: string; out_refund_no: string; url: string }>).filter((d) => d.kind === 'refund');
    expect(refundNotifies.map((d) => [d.out_refund_no, d.url])).toEqual([['RN2', 'http://127.0.0.1:9/refund-notify']]);
  });

  it('refundquery by out_trade_no pages by 10: offset picks the page and brings total_refund_count', async () => {
    const a = await paidOrder(100);
    for (let i = 0; i < 12; i++) expect((await raw(a, `RP${String(i).padStart(2, '0')}`, '1')).fields.result_code).toBe('SUCCESS');
    const first = await wxPost(app.baseUrl, 'refundquery', { out_trade_no: a.outTradeNo });
    expect(first.fields).toMatchObject({ result_code: 'SUCCESS', refund_count: '10', out_refund_no_0: 'RP00', out_refund_no_9: 'RP09' });
    expect(first.fields.out_refund_no_10).toBeUndefined();
    expect(first.fields.total_refund_count).toBeUndefined();
    const second = await client().refundQuery({ out_trade_no: a.outTradeNo, offset: 10 });
    expect(second).toMatchObject({ refund_count: '2', total_refund_count: '12', out_refund_no_0: 'RP10', out_refund_no_1: 'RP11' });
    expect((await wxPost(app.baseUrl, 'refundquery', { out_trade_no: a.outTradeNo, offset: '12' })).fields).toMatchObject({ result_code: 'FAIL', err_code: 'REFUNDNOTEXIST' });
    expect((await wxPost(app.baseUrl, 'refundquery', { out_trade_no: a.outTradeNo, offset: 'ten' })).fields).toEqual({ return_code: 'FAIL', return_msg: 'offset参数格式错误' });
  });
});
