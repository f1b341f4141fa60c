import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_API_KEY, SANDBOX_APP_SECRET, SANDBOX_APPID, SANDBOX_MCH_ID } from '../../lib/config';
import { authorizeUrl, exchangeCode } from '../../lib/wechat/oauth';
import { WechatPayClient, type WechatPayClientOptions } from '../../lib/wechatpay/client';
import { WechatPayApiError, WechatPayCommunicationError, type WechatPayError, WechatPayRequestError } from '../../lib/wechatpay/errors';
import { jsapiParams, verifyJsapiParams } from '../../lib/wechatpay/jsapi';
import { formatWxDate, formatWxTime } from '../../lib/wechatpay/time';
import { type AppServer, startApp } from '../helpers/server';

/*
 * The protocol client against the app's own sandbox (WeChat's side, built by another part): both must
 * agree on signing, XML, error codes and the bill format, or the checkout breaks in sandbox mode.
 */
describe.each(['MD5', 'HMAC-SHA256'] as const)('WechatPayClient against the sandbox (%s)', (signType) => {
  let app: AppServer;
  const client = (o: Partial<WechatPayClientOptions> = {}) =>
    new WechatPayClient({ appId: SANDBOX_APPID, mchId: SANDBOX_MCH_ID, apiKey: SANDBOX_API_KEY, signType, baseUrl: `${app.baseUrl}/sandbox/mch`, retryDelayMs: 5, ...o });
  const sim = async (path: string, body?: unknown, method = 'POST') => {
    const r = await fetch(`${app.baseUrl}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };
  const thrown = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e as WechatPayError);
  const outTradeNo = () => `T${randomBytes(8).toString('hex').toUpperCase()}`;
  const order = (otn: string, over: Record<string, string | number> = {}) => ({
    body: '沙箱测试商品', out_trade_no: otn, total_fee: 250, spbill_create_ip: '127.0.0.1',
    notify_url: `${app.baseUrl}/api/wechatpay/notify`, trade_type: 'NATIVE' as const, product_id: 'SKU1',
    time_start: formatWxTime(Date.now()), time_expire: formatWxTime(Date.now() + 15 * 60_000), ...over,
  });

  beforeAll(async () => {
    // Closes trades seconds after placing them: WeChat's 5-minute closeorder rule is off here (wx-closeorder.test.ts keeps it).
    // Today's bill at once (WeChat's is made by 10:00 the next morning: test/integration/wx-bills.test.ts).
    app = await startApp({ engine: 'sqlite', env: { SANDBOX_CLOSE_MIN_AGE_S: '0', SANDBOX_BILL_READY_HOUR: '0' } });
  });
  afterAll(async () => {
    await app?.stop();
  });
  beforeEach(async () => {
    await sim('/sandbox/sim/faults', undefined, 'DELETE');
  });

  it('NATIVE: unifiedorder, pay, orderquery, closeorder ORDERPAID, refund, refundquery, downloadbill', async () => {
    const c = client();
    const otn = outTradeNo();
    const placed = await c.unifiedOrder(order(otn));
    expect(placed.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    await expect(c.orderQuery({ out_trade_no: otn })).resolves.toMatchObject({ trade_state: 'NOTPAY' });

    const paid = await sim('/sandbox/sim/pay', { code_url: placed.code_url });
    expect(paid.status).toBe(200);
    const q = await c.orderQuery({ out_trade_no: otn });
    expect(q).toMatchObject({ trade_state: 'SUCCESS', total_fee: '250', out_trade_no: otn, trade_type: 'NATIVE' });
    expect(q.transaction_id).toBeTruthy();
    await expect(c.orderQuery({ transaction_id: q.transaction_id! })).resolves.toMatchObject({ out_trade_no: otn });

    expect(await thrown(c.closeOrder({ out_trade_no: otn }))).toMatchObject({ name: 'WechatPayApiError', code: 'ORDERPAID' });

    const outRefundNo = `R${otn}`;
    const refund = await c.refund({ out_trade_no: otn, out_refund_no: outRefundNo, total_fee: 250, refund_fee: 100, refund_desc: '部分退款' });
    expect(refund).toMatchObject({ out_refund_no: outRefundNo, refund_fee: '100' });
    const rq = await c.refundQuery({ out_refund_no: outRefundNo });
    expect(Number(rq.refund_count)).toBeGreaterThanOrEqual(1);
    expect(rq.out_refund_no_0).toBe(outRefundNo);

    const bill = await c.downloadBill({ bill_date: formatWxDate(Date.now()), bill_type: 'ALL' });
    const mine = bill.rows.filter((r) => r.out_trade_no === otn);
    expect(mine.map((r) => r.trade_state).sort()).toEqual(['REFUND', 'SUCCESS']);
    expect(mine.find((r) => r.trade_state === 'SUCCESS')).toMatchObject({ total_fee: '2.50', body: '沙箱测试商品' });
    expect(Number(bill.summary.total_count)).toBe(bill.rows.length);
  });

  it('OAuth (snsapi_base) yields an openid; a code works once; JSAPI unifiedorder with it gives a prepay_id', async () => {
    const state = 'st8x';
    const url = authorizeUrl({ openBaseUrl: `${app.baseUrl}/sandbox/open`, appId: SANDBOX_APPID, redirectUri: `${app.baseUrl}/cb-not-followed`, scope: 'snsapi_base', state });
    const redirect = await fetch(url, { redirect: 'manual' });
    expect(redirect.status).toBeGreaterThanOrEqual(300);
    expect(redirect.status).toBeLessThan(400);
    const back = new URL(redirect.headers.get('location')!, app.baseUrl);
    expect(back.pathname).toBe('/cb-not-followed');
    expect(back.searchParams.get('state')).toBe(state);
    const code = back.searchParams.get('code')!;
    const exchange = { apiBaseUrl: `${app.baseUrl}/sandbox/api`, appId: SANDBOX_APPID, secret: SANDBOX_APP_SECRET, code };
    const token = await exchangeCode(exchange);
    expect(token).toMatchObject({ scope: 'snsapi_base', isSnapshotUser: false, expiresIn: 7200 });
    expect(token.openid).toBeTruthy();
    await expect(exchangeCode(exchange)).rejects.toMatchObject({ name: 'WechatOAuthError', errcode: 40163, kind: 'code_used' });
    await expect(exchangeCode({ ...exchange, code: 'nosuchcode' })).rejects.toMatchObject({ kind: 'invalid_code' });

    const c = client();
    const placed = await c.unifiedOrder(order(outTradeNo(), { trade_type: 'JSAPI', openid: token.openid, product_id: '' }));
    expect(placed.prepay_id).toBeTruthy();
    const params = jsapiParams({ appId: SANDBOX_APPID, prepayId: placed.prepay_id!, apiKey: SANDBOX_API_KEY, signType });
    expect(verifyJsapiParams(params, SANDBOX_API_KEY)).toBe(true);
  });

  it('closeorder then ORDERCLOSED; unknown orders are ORDERNOTEXIST', async () => {
    const c = client();
    const otn = outTradeNo();
    await c.unifiedOrder(order(otn));
    await expect(c.closeOrder({ out_trade_no: otn })).resolves.toMatchObject({ result_code: 'SUCCESS' });
    await expect(c.orderQuery({ out_trade_no: otn })).resolves.toMatchObject({ trade_state: 'CLOSED' });
    const again = await thrown(c.closeOrder({ out_trade_no: otn }));
    expect(again).toBeInstanceOf(WechatPayApiError);
    expect(again.code).toBe('ORDERCLOSED');
    expect(await thrown(c.orderQuery({ out_trade_no: outTradeNo() }))).toMatchObject({ code: 'ORDERNOTEXIST' });
  });

  it('retries sandbox SYSTEMERROR and HTTP 500 faults, and gives up after maxRetries', async () => {
    const c = client();
    const otn = outTradeNo();
    await c.unifiedOrder(order(otn));
    expect((await sim('/sandbox/sim/faults', { api: 'orderquery', fault: 'SYSTEMERROR', count: 2 })).status).toBe(200);
    await expect(c.orderQuery({ out_trade_no: otn })).resolves.toMatchObject({ trade_state: 'NOTPAY' });
    await sim('/sandbox/sim/faults', { api: 'orderquery', fault: 'HTTP500', count: 1 });
    await expect(c.orderQuery({ out_trade_no: otn })).resolves.toMatchObject({ trade_state: 'NOTPAY' });
    await sim('/sandbox/sim/faults', { api: 'orderquery', fault: 'SYSTEMERROR', count: 3 });
    expect(await thrown(c.orderQuery({ out_trade_no: otn }))).toMatchObject({ name: 'WechatPayApiError', code: 'SYSTEMERROR' });
  });

  it('a wrong API key is refused by the sandbox as return_code FAIL 签名错误 (permanent: a WechatPayRequestError)', async () => {
    const e = await thrown(client({ apiKey: 'x'.repeat(32) }).orderQuery({ out_trade_no: outTradeNo() }));
    expect(e).toBeInstanceOf(WechatPayRequestError);
    expect(e).toMatchObject({ code: 'RETURN_FAIL', message: expect.stringContaining('签名错误') });
  });
});
