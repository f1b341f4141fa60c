import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDb } from '@/lib/db';
import { formatWxTime } from '@/lib/wechatpay/time';
import { actAsInstanceOf, INSTANCE_ENV } from '../helpers/in-process';
import { outTradeNo, sandboxOrder, sandboxPay, wxPost } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';

/*
 * USERPAYING and PAYERROR. The orderquery trade_state list ("SUCCESS--支付成功 REFUND--转入退款 NOTPAY--未支付
 * CLOSED--已关闭 REVOKED--已撤销 USERPAYING--用户支付中 PAYERROR--支付失败(其他原因，如银行返回失败)", quoted from
 * WeChat's 查询订单 page in developers.weixin.qq.com/community/pay/doc/000682dbdf03b86b1e70388f561000, found with
 * `search`), and the answer there: "NOTPAY--未支付 USERPAYING--用户支付中 ACCEPT--已接收是中间状态 ... PAYERROR--
 * 支付失败 ... 上面这些是终态". USERPAYING is still in payment (the buyer is typing the password: "只要没有
 * 关闭输入密码框，就还是USERPAYING", community/pay/doc/000802d0dbc6a8ea5fc0a611661c00); PAYERROR is final,
 * and one out_trade_no is ordered once ("同一商户订单号(out_trade_no)只能调用一次下单接口",
 * fudiwei/DotNetCore.SKIT.FlurlHttpClient.Wechat#126): paying again needs a fresh out_trade_no.
 */

const native = () => ({
  body: '沙箱测试商品', out_trade_no: outTradeNo('PE'), total_fee: '1', spbill_create_ip: '127.0.0.1',
  notify_url: 'http://127.0.0.1:9/notify', trade_type: 'NATIVE', product_id: 'sku-1', time_expire: formatWxTime(Date.now() + 10 * 60_000),
});

type Payments = typeof import('@/lib/checkout/payments');
type Db = typeof import('@/lib/db');

describe('USERPAYING and PAYERROR', () => {
  let app: AppServer;
  let payments: Payments;
  let dbm: Db;
  beforeAll(async () => {
    for (const k of [...INSTANCE_ENV, 'SANDBOX_MCH_BASE_URL', 'ORDER_TTL_MINUTES']) delete process.env[k];
    app = await startApp({ env: { RECONCILE_INTERVAL_MS: '0' } });
    actAsInstanceOf(app, initDb(app.databaseUrl), { SANDBOX_MCH_BASE_URL: `${app.baseUrl}/sandbox/mch`, ORDER_TTL_MINUTES: '15' });
    payments = await import('@/lib/checkout/payments');
    dbm = await import('@/lib/db');
  });
  afterAll(async () => {
    await (await dbm?.getDbHandle())?.close();
    await app?.stop();
  });

  it('raw HTTP: USERPAYING is answered by orderquery and may still be paid', async () => {
    const f = native();
    const placed = await wxPost(app.baseUrl, 'unifiedorder', f);
    expect((await sandboxPay(app.baseUrl, { code_url: placed.fields.code_url, result: 'USERPAYING' })).json).toMatchObject({ ok: true, state: 'USERPAYING' });
    const q = await wxPost(app.baseUrl, 'orderquery', { out_trade_no: f.out_trade_no });
    expect(q.fields).toMatchObject({ result_code: 'SUCCESS', trade_state: 'USERPAYING', trade_state_desc: '用户支付中' });
    expect(q.fields.transaction_id).toBeUndefined();
    expect((await sandboxPay(app.baseUrl, { code_url: placed.fields.code_url })).json).toMatchObject({ ok: true, state: 'SUCCESS' });
  });

  it('raw HTTP: PAYERROR is final: paying again is refused, and the same out_trade_no cannot be ordered again', async () => {
    const f = native();
    const placed = await wxPost(app.baseUrl, 'unifiedorder', f);
    expect((await sandboxPay(app.baseUrl, { code_url: placed.fields.code_url, result: 'FAIL' })).json.state).toBe('PAYERROR');
    expect((await wxPost(app.baseUrl, 'orderquery', { out_trade_no: f.out_trade_no })).fields).toMatchObject({ trade_state: 'PAYERROR' });
    const again = await sandboxPay(app.baseUrl, { code_url: placed.fields.code_url });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ code: 'PAYERROR', message: '该订单支付失败，请使用新的商户订单号重新下单' });
    // The identical unifiedorder (only nonce and sign differ) is refused too: a new out_trade_no is needed.
    const reorder = await wxPost(app.baseUrl, 'unifiedorder', f);
    expect(reorder.fields).toMatchObject({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'INVALID_REQUEST', err_code_des: '201 商户订单号重复' });
    expect((await sandboxOrder(app.baseUrl, f.out_trade_no))?.state).toBe('PAYERROR');
    // A trade in payment may fail too, and is then just as final.
    const g = native();
    const p2 = await wxPost(app.baseUrl, 'unifiedorder', g);
    await sandboxPay(app.baseUrl, { code_url: p2.fields.code_url, result: 'USERPAYING' });
    expect((await sandboxPay(app.baseUrl, { code_url: p2.fields.code_url, result: 'FAIL' })).json.state).toBe('PAYERROR');
  });

  const start = (buyerId: string) => payments.startPayment({ sku: 'green-tea', quantity: 1, buyerId, mode: 'native', clientIp: '127.0.0.1' });
  const attemptsOf = async (orderId: string) =>
    (await dbm.getDb()).selectFrom('payment_attempts').select(['out_trade_no', 'status', 'code_url']).where('order_id', '=', orderId).orderBy('created_at').execute();

  /** The payment applies through the notify or this query, whichever comes first; the order ends paid by that attempt. */
  const expectPaid = async (orderId: string, otn: string) => {
    const r = await payments.confirmAttempt(otn);
    expect(r.state).toBe('SUCCESS');
    expect(['applied', 'duplicate']).toContain(r.outcome);
    const db = await dbm.getDb();
    expect(await db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirstOrThrow()).toEqual({ status: 'paid' });
    expect((await db.selectFrom('payment_attempts').select('status').where('out_trade_no', '=', otn).executeTakeFirstOrThrow()).status).toBe('paid');
  };

  it('the app: USERPAYING keeps the order pending and the next tap shows the same QR, which then pays', async () => {
    const first = await start(`b_up${Date.now()}`);
    if (!first.ok) throw new Error(first.message);
    const [a] = await attemptsOf(first.orderId);
    await sandboxPay(app.baseUrl, { code_url: a.code_url!, result: 'USERPAYING' });
    expect(await payments.confirmAttempt(a.out_trade_no)).toEqual({ state: 'USERPAYING' });
    expect(await attemptsOf(first.orderId)).toEqual([expect.objectContaining({ out_trade_no: a.out_trade_no, status: 'open' })]);
    const db = await dbm.getDb();
    expect((await db.selectFrom('orders').select('status').where('id', '=', first.orderId).executeTakeFirstOrThrow()).status).toBe('pending');
    const tap = await start((await db.selectFrom('orders').select('buyer_id').where('id', '=', first.orderId).executeTakeFirstOrThrow()).buyer_id!);
    expect(tap).toMatchObject({ ok: true, orderId: first.orderId });
    expect(await attemptsOf(first.orderId)).toHaveLength(1);
    await sandboxPay(app.baseUrl, { code_url: a.code_url! });
    await expectPaid(first.orderId, a.out_trade_no);
  });

  it('the app: PAYERROR fails the attempt, and the next tap places a new out_trade_no the buyer can pay', async () => {
    const buyerId = `b_pe${Date.now()}`;
    const first = await start(buyerId);
    if (!first.ok) throw new Error(first.message);
    const [a] = await attemptsOf(first.orderId);
    await sandboxPay(app.baseUrl, { code_url: a.code_url!, result: 'FAIL' });
    expect(await payments.confirmAttempt(a.out_trade_no)).toEqual({ state: 'PAYERROR' });
    expect((await attemptsOf(first.orderId))[0]).toMatchObject({ out_trade_no: a.out_trade_no, status: 'failed' });
    const tap = await start(buyerId);
    expect(tap).toMatchObject({ ok: true, orderId: first.orderId });
    const after = await attemptsOf(first.orderId);
    expect(after).toHaveLength(2);
    const fresh = after.find((x) => x.out_trade_no !== a.out_trade_no)!;
    expect(fresh).toMatchObject({ status: 'open' });
    expect((await sandboxPay(app.baseUrl, { code_url: fresh.code_url! })).json).toMatchObject({ ok: true, state: 'SUCCESS' });
    await expectPaid(first.orderId, fresh.out_trade_no);
  });
});
