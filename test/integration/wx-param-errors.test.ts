import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_API_KEY, SANDBOX_APPID, SANDBOX_MCH_ID } from '@/lib/config';
import { type DbHandle, openDb } from '@/lib/db';
import type { Database } from '@/lib/db/schema';
import { WechatPayClient } from '@/lib/wechatpay/client';
import { WechatPayCommunicationError, type WechatPayError, WechatPayRequestError } from '@/lib/wechatpay/errors';
import { formatWxTime } from '@/lib/wechatpay/time';
import { actAsInstanceOf, INSTANCE_ENV } from '../helpers/in-process';
import { placeSandboxAttempt, sandboxPay, waitFor } from '../helpers/orders';
import { clearFaults, outTradeNo, sandboxOrder, setFaults, wxPost } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';

/*
 * Parameter errors, answered as WeChat answers them: an unsigned return_code=FAIL with a text
 * return_msg and no err_code, before any business logic. What merchants see live (found with `search`,
 * developers.weixin.qq.com community): `{return_msg=不识别的参数auth_code, return_code=FAIL}` (a micropay
 * field sent to unifiedorder), `<return_code>FAIL</return_code><return_msg>0参数格式错误</return_msg>`,
 * and the transient `<return_code>FAIL</return_code><return_msg>系统错误稍后再试</return_msg>`
 * (https://developers.weixin.qq.com/community/pay/doc/000c601a580e108d06aad542b51400). The closeorder
 * page: "return_msg ... 当return_code为FAIL时返回信息为错误原因，例如 签名失败 参数格式校验错误"
 * (https://pay.weixin.qq.com/doc/v2/merchant/4011987803).
 *
 * The client tells them apart: a transient one is resent with the same body, a permanent one is
 * thrown at once (WechatPayRequestError); a refund refused for good ends failed with the reason instead
 * of staying processing for the reconciler to resubmit for ever.
 */
describe('parameter errors: unsigned return_code=FAIL', () => {
  let app: AppServer;
  let h: DbHandle;
  let db: Kysely<Database>;
  beforeAll(async () => {
    for (const k of [...INSTANCE_ENV, 'SANDBOX_MCH_BASE_URL', 'WECHATPAY_API_KEY']) delete process.env[k];
    app = await startApp({ env: { RECONCILE_INTERVAL_MS: '0' } });
    h = openDb(app.databaseUrl);
    db = h.db;
  });
  afterAll(async () => {
    for (const k of ['WECHATPAY_API_KEY']) delete process.env[k];
    await h?.close();
    await app?.stop();
  });
  beforeEach(async () => clearFaults(app.baseUrl));

  const native = (over: Record<string, string | undefined> = {}) => ({
    body: '沙箱测试商品', out_trade_no: outTradeNo('PE'), total_fee: '1', spbill_create_ip: '127.0.0.1',
    notify_url: 'http://127.0.0.1:9/notify', trade_type: 'NATIVE', product_id: 'sku-1', time_expire: formatWxTime(Date.now() + 10 * 60_000), ...over,
  });
  const refused = async (api: string, fields: Record<string, string | undefined>, returnMsg: string) => {
    const r = await wxPost(app.baseUrl, api, fields);
    expect(r.status).toBe(200);
    // Exactly these two fields: no sign, no result_code, no err_code.
    expect(r.fields, r.text).toEqual({ return_code: 'FAIL', return_msg: returnMsg });
  };
  const refusedCount = async () => ((await (await fetch(`${app.baseUrl}/sandbox/sim/requests`)).json()) as { requests: unknown[] }).requests.length;
  const client = () =>
    new WechatPayClient({ appId: SANDBOX_APPID, mchId: SANDBOX_MCH_ID, apiKey: SANDBOX_API_KEY, signType: 'MD5', baseUrl: `${app.baseUrl}/sandbox/mch`, retryDelayMs: 5 });
  const thrown = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e as WechatPayError);

  it('raw HTTP: unknown, missing and malformed parameters, notify_url, body length and times', async () => {
    await refused('unifiedorder', native({ auth_code: '134567890123456789' }), '不识别的参数auth_code');
    await refused('unifiedorder', native({ body: undefined }), '缺少参数body');
    await refused('unifiedorder', native({ body: '茶'.repeat(43) }), 'body参数长度有误：最多127字节');
    await refused('unifiedorder', native({ notify_url: 'http://127.0.0.1:9/notify?order=1' }), 'notify_url参数格式错误：不能携带参数');
    await refused('unifiedorder', native({ notify_url: 'ftp://127.0.0.1/notify' }), 'notify_url参数格式错误：必须是以http://或https://开头的完整地址');
    await refused('unifiedorder', native({ time_start: '2026-01-01' }), 'time_start参数格式错误：yyyyMMddHHmmss（北京时间）');
    await refused('unifiedorder', native({ total_fee: '1.5' }), 'total_fee参数格式错误：必须是正整数（单位分）');
    await refused('orderquery', { out_trade_no: 'OQ123456', refund_id: '1' }, '不识别的参数refund_id');
    await refused('closeorder', {}, '缺少参数out_trade_no');
    await refused('refund', { out_trade_no: 'RF123456', out_refund_no: 'R1', total_fee: '1', refund_fee: '0.5' }, 'refund_fee参数格式错误');
    await refused('unifiedorder', { ...native(), nonce_str: 'n'.repeat(33) }, 'nonce_str参数长度有误');
    // Business refusals stay signed result_code=FAIL (the openid case is what merchants see live).
    const biz = await wxPost(app.baseUrl, 'unifiedorder', native({ trade_type: 'JSAPI', product_id: undefined, openid: 'oUnknown' }));
    expect(biz.fields).toMatchObject({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'PARAM_ERROR', err_code_des: 'appid和openid不匹配' });
    expect(biz.fields.sign).toBeTruthy();
    // The dashboard lists parameter refusals like signature ones.
    const seen = (await (await fetch(`${app.baseUrl}/sandbox/sim/requests`)).json()) as { requests: Array<{ api: string; reason: string }> };
    expect(seen.requests.map((r) => r.reason)).toEqual(expect.arrayContaining(['不识别的参数auth_code', '缺少参数out_trade_no', 'refund_fee参数格式错误']));
  });

  it('raw HTTP: RETURN_SYSTEMERROR answers 系统错误稍后再试 unsigned; the same request then succeeds', async () => {
    await setFaults(app.baseUrl, { api: 'unifiedorder', fault: 'RETURN_SYSTEMERROR', count: 1 });
    const f = native();
    await refused('unifiedorder', f, '系统错误稍后再试');
    expect((await wxPost(app.baseUrl, 'unifiedorder', f)).fields).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS' });
  });

  it('client: 系统错误稍后再试 is resent with the same body (twice absorbed, three times a transient failure); a permanent refusal is thrown after one request', async () => {
    const order = () => ({ ...native(), total_fee: 1, trade_type: 'NATIVE' as const });
    await setFaults(app.baseUrl, { api: 'unifiedorder', fault: 'RETURN_SYSTEMERROR', count: 2 });
    await expect(client().unifiedOrder(order())).resolves.toMatchObject({ result_code: 'SUCCESS' });

    await setFaults(app.baseUrl, { api: 'unifiedorder', fault: 'RETURN_SYSTEMERROR', count: 3 });
    const busy = await thrown(client().unifiedOrder(order()));
    expect(busy).toBeInstanceOf(WechatPayCommunicationError);
    expect(busy).toMatchObject({ code: 'RETURN_FAIL', message: expect.stringContaining('系统错误稍后再试') });

    const before = await refusedCount();
    const bad = await thrown(client().refund({ out_trade_no: 'RF1234567', out_refund_no: 'R1', total_fee: 1, refund_fee: 1, notify_url: 'http://127.0.0.1:9/refund?x=1' }));
    expect(bad).toBeInstanceOf(WechatPayRequestError);
    expect(bad).toMatchObject({ code: 'RETURN_FAIL', returnMsg: 'notify_url参数格式错误' });
    expect(await refusedCount()).toBe(before + 1); // not resent
  });

  describe('the app refunding', () => {
    const paidOrder = async () => {
      const a = await placeSandboxAttempt(app, db, { amountFen: 6800, sku: 'green-tea' });
      await sandboxPay(app.baseUrl, a.codeUrl!);
      await waitFor(async () => (await db.selectFrom('orders').select('status').where('id', '=', a.orderId).executeTakeFirstOrThrow()).status === 'paid', 15_000, 'the payment');
      return a;
    };
    const wechatRefunds = async (outTradeNo: string) => ((await sandboxOrder(app.baseUrl, outTradeNo))?.refunds ?? []) as Array<{ out_refund_no: string }>;
    const instance = async (env: Record<string, string> = {}) => {
      delete process.env.WECHATPAY_API_KEY;
      actAsInstanceOf(app, h, { SANDBOX_MCH_BASE_URL: `${app.baseUrl}/sandbox/mch`, ...env });
      return { refunds: await import('@/lib/checkout/refunds'), reconciler: await import('@/lib/checkout/reconciler') };
    };
    const sweep = (reconciler: typeof import('@/lib/checkout/reconciler')) => reconciler.reconcileOnce({ intervalMs: 1000, graceMs: 0, batch: 50 });

    it('a permanent refusal (签名错误: the API key was changed in the portal) ends the refund failed with the reason; the reconciler leaves it alone', async () => {
      const a = await paidOrder();
      const { refunds, reconciler } = await instance({ WECHATPAY_API_KEY: 'f'.repeat(32) });
      const r = await refunds.requestRefund({ orderId: a.orderId, amountFen: 2000, reason: 'x', origin: 'merchant' });
      expect(r).toMatchObject({ ok: false, code: 'RETURN_FAIL', message: '签名错误', refund: { status: 'failed' } });
      const row = await db.selectFrom('refunds').selectAll().where('order_id', '=', a.orderId).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: 'failed', detail: 'RETURN_FAIL: 签名错误' });
      await sweep(reconciler);
      expect((await db.selectFrom('refunds').select('status').where('out_refund_no', '=', row.out_refund_no).executeTakeFirstOrThrow()).status).toBe('failed');
      expect(await wechatRefunds(a.outTradeNo)).toEqual([]);
    });

    it('a transient one (系统错误稍后再试 on every try) stays processing; the reconciler resubmits the SAME out_refund_no: one refund at WeChat', async () => {
      const a = await paidOrder();
      const { refunds, reconciler } = await instance();
      await setFaults(app.baseUrl, { api: 'refund', fault: 'RETURN_SYSTEMERROR', count: 3 });
      const r = await refunds.requestRefund({ orderId: a.orderId, amountFen: 2000, reason: 'x', origin: 'merchant' });
      expect(r).toMatchObject({ ok: true, confirmed: false, refund: { status: 'processing' } });
      if (!r.ok) return;
      expect(r.refund.detail).toMatch(/^not confirmed yet \(RETURN_FAIL: .*系统错误稍后再试/);
      expect(await wechatRefunds(a.outTradeNo)).toEqual([]);
      const done = await waitFor(async () => {
        await sweep(reconciler);
        const row = await db.selectFrom('refunds').selectAll().where('out_refund_no', '=', r.refund.out_refund_no).executeTakeFirstOrThrow();
        return row.status === 'succeeded' ? row : undefined;
      }, 15_000, 'the refund to settle');
      expect(done.amount_fen).toBe(2000);
      expect((await wechatRefunds(a.outTradeNo)).map((x) => x.out_refund_no)).toEqual([r.refund.out_refund_no]);
    });
  });
});
