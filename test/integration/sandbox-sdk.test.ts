import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchangeCode } from '@/lib/wechat/oauth';
import { WechatPayClient } from '@/lib/wechatpay/client';
import { WechatPayApiError } from '@/lib/wechatpay/errors';
import { jsapiParams } from '@/lib/wechatpay/jsapi';
import { parsePaymentNotify, parseRefundNotify } from '@/lib/wechatpay/notify';
import type { SignType } from '@/lib/wechatpay/sign';
import { formatWxDate, formatWxTime } from '@/lib/wechatpay/time';
import { type AppServer, startApp } from '../helpers/server';
import { notifyReceiver, outTradeNo, SBX, sandboxPay, setFaults, SUCCESS_REPLY, waitFor } from '../helpers/sandbox';

/**
 * Interoperability: the app's own WeChat Pay client and OAuth client (lib/wechatpay, lib/wechat, written
 * independently from the protocol facts) pointed at the sandbox, for both sign types, unchanged.
 */
describe.each(['MD5', 'HMAC-SHA256'] as SignType[])('lib/wechatpay client against the sandbox (%s)', (signType) => {
  let app: AppServer;
  let client: WechatPayClient;
  let rx: Awaited<ReturnType<typeof notifyReceiver>>;
  beforeAll(async () => {
    // Closes trades seconds after placing them: WeChat's 5-minute closeorder rule is off here (wx-closeorder.test.ts keeps it).
    // Today's bill at once (WeChat's is made by 10:00 the next morning: test/integration/wx-bills.test.ts).
    app = await startApp({ env: { SANDBOX_CLOSE_MIN_AGE_S: '0', SANDBOX_BILL_READY_HOUR: '0' } });
    client = new WechatPayClient({ appId: SBX.appid, mchId: SBX.mchId, apiKey: SBX.apiKey, signType, baseUrl: `${app.baseUrl}/sandbox/mch`, retryDelayMs: 10 });
    rx = await notifyReceiver(() => ({ status: 200, body: SUCCESS_REPLY }));
  });
  afterAll(async () => {
    await rx?.close();
    await app?.stop();
  });

  it('OAuth, JSAPI unifiedorder, bridge params, payment notify, orderquery, refund, refund notify, refundquery, bill', async () => {
    const auth = await fetch(`${app.baseUrl}/sandbox/open/connect/oauth2/authorize?appid=${SBX.appid}&redirect_uri=${encodeURIComponent(`${app.baseUrl}/cb`)}&response_type=code&scope=snsapi_base&state=x1`, { redirect: 'manual' });
    const code = new URL(auth.headers.get('location')!).searchParams.get('code')!;
    const tok = await exchangeCode({ apiBaseUrl: `${app.baseUrl}/sandbox/api`, appId: SBX.appid, secret: SBX.secret, code });
    expect(tok.isSnapshotUser).toBe(false);
    await expect(exchangeCode({ apiBaseUrl: `${app.baseUrl}/sandbox/api`, appId: SBX.appid, secret: SBX.secret, code })).rejects.toMatchObject({ errcode: 40163 });

    const no = outTradeNo('K');
    const uo = await client.unifiedOrder({
      body: 'SDK互通', out_trade_no: no, total_fee: 500, spbill_create_ip: '127.0.0.1', notify_url: rx.url, trade_type: 'JSAPI', openid: tok.openid,
      time_expire: formatWxTime(Date.now() + 15 * 60_000),
    });
    const params = jsapiParams({ appId: SBX.appid, prepayId: uo.prepay_id!, apiKey: SBX.apiKey, signType });
    // What the bridge sends from a page: the page's URL, which must be under a registered payment directory.
    const fromPage = (page: string) => ({ 'content-type': 'application/json', 'x-sandbox-page-url': page });
    const unregistered = await (await fetch(`${app.baseUrl}/sandbox/sim/jsapi/check`, { method: 'POST', headers: fromPage(`${app.baseUrl}/shop/sub/green-tea`), body: JSON.stringify(params) })).json();
    expect(unregistered).toMatchObject({ ok: false, reason: expect.stringContaining(`当前页面的URL未注册：${app.baseUrl}/shop/sub/green-tea`) });
    const check = await (await fetch(`${app.baseUrl}/sandbox/sim/jsapi/check`, { method: 'POST', headers: fromPage(`${app.baseUrl}/shop/green-tea?from=share#x`), body: JSON.stringify(params) })).json();
    expect(check).toMatchObject({ ok: true });
    const pay = await fetch(`${app.baseUrl}/sandbox/sim/jsapi/pay`, { method: 'POST', headers: fromPage(`${app.baseUrl}/shop/green-tea`), body: JSON.stringify(params) });
    expect(pay.status).toBe(200);

    await waitFor(async () => rx.received.length >= 1);
    const notified = parsePaymentNotify(rx.received[0].body, { apiKey: SBX.apiKey, signType });
    expect(notified).toMatchObject({ out_trade_no: no, total_fee: '500', openid: tok.openid });
    const q = await client.orderQuery({ out_trade_no: no });
    expect(q).toMatchObject({ trade_state: 'SUCCESS', transaction_id: notified.transaction_id, time_end: notified.time_end });

    const rf = await client.refund({ out_trade_no: no, out_refund_no: `${no}R1`, total_fee: 500, refund_fee: 200, notify_url: rx.url });
    expect(rf.refund_id).toBeTruthy();
    await waitFor(async () => rx.received.length >= 2);
    const { info } = parseRefundNotify(rx.received[1].body, { apiKey: SBX.apiKey });
    expect(info).toMatchObject({ out_refund_no: `${no}R1`, refund_fee: '200', refund_status: 'SUCCESS' });
    const rq = await client.refundQuery({ out_trade_no: no });
    expect(rq).toMatchObject({ refund_count: '1', refund_status_0: 'SUCCESS' });

    const bill = await client.downloadBill({ bill_date: formatWxDate(Date.now()) });
    expect(bill.rows.some((r) => r.out_trade_no === no && r.trade_state === 'SUCCESS')).toBe(true);
    expect(bill.rows.some((r) => r.out_trade_no === no && r.refund_fee === '2.00')).toBe(true);
  });

  it('NATIVE, close, and the errors the client maps (ORDERPAID, ORDERCLOSED, 201 duplicate, SYSTEMERROR retried)', async () => {
    const no = outTradeNo('L');
    const req = { body: 'SDK扫码', out_trade_no: no, total_fee: 100, spbill_create_ip: '127.0.0.1', notify_url: rx.url, trade_type: 'NATIVE' as const, product_id: 'p1' };
    const uo = await client.unifiedOrder(req);
    expect(uo.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    await expect(client.unifiedOrder({ ...req, total_fee: 101 })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await setFaults(app.baseUrl, { api: 'orderquery', fault: 'SYSTEMERROR', count: 1 });
    expect((await client.orderQuery({ out_trade_no: no })).trade_state).toBe('NOTPAY'); // retried past SYSTEMERROR
    await sandboxPay(app.baseUrl, { code_url: uo.code_url });
    const err = await client.closeOrder({ out_trade_no: no }).catch((e) => e);
    expect(err).toBeInstanceOf(WechatPayApiError);
    expect(err.code).toBe('ORDERPAID');
    const other = outTradeNo('M');
    await client.unifiedOrder({ ...req, out_trade_no: other });
    await client.closeOrder({ out_trade_no: other });
    await expect(client.unifiedOrder({ ...req, out_trade_no: other })).rejects.toMatchObject({ code: 'ORDERCLOSED' });
  });
});
