import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '@/lib/wechatpay/v3';
import { outTradeNo, sandboxOrder, waitFor, wxPost } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';
import { sandboxV3Client } from '../helpers/v3';

/*
 * H5 payment (trade_type MWEB; v3 POST /v3/pay/transactions/h5) against the sandbox over raw HTTP.
 * WeChat's behaviour, with its sources (found with `search`):
 *  - unifiedorder MWEB needs scene_info `{"h5_info":{"type":"Wap","wap_url":...,"wap_name":...}}` (场景信息, 必填,
 *    the H5 unifiedorder page https://pay.weixin.qq.com/wiki/doc/api/H5.php?chapter=9_20) and answers
 *    mweb_url, a middle page `...checkmweb?prepay_id=...&package=...` valid 5 minutes ("mweb_url的有效期为5分钟");
 *  - a merchant without H5 permission: live v2 answers unsigned return_code=FAIL
 *    商户号该产品权限未开通，请前往商户平台>产品中心检查后重试 (merchants quote it verbatim:
 *    lokielse/omnipay-wechatpay#71, befinal/node-tenpay#49); the documented form, reachable by the switch's
 *    refusal NOAUTH, is err_code NOAUTH 商户无此接口权限 (the unifiedorder error table:
 *    "NOAUTH 商户无此接口权限 商户未开通此接口权限 请商户前往申请此接口权限"); v3: HTTP 403
 *    {"code":"NO_AUTH","message":"商户号该产品权限未开通,请前往商户平台>产品中心检查后重试"} (developers.weixin.qq.com threads);
 *  - the cashier page: 商家参数格式有误，请联系商家解决 when the Referer is empty, 商家存在未配置的参数，请联系商家解决
 *    when its domain (or redirect_url's) is not the registered H5 domain, 支付请求已失效，请重新发起支付 after
 *    5 minutes (the H5 guide's 常见错误, chapter=15_4, as merchants quote it);
 *  - after 完成 or 取消支付 the cashier returns the buyer to redirect_url (same guide, 回调页面);
 *  - 网络环境未能通过安全验证，请稍后再试 when the IP opening the cashier is not the order's spbill_create_ip
 *    (v3 payer_client_ip): the guide's 常见错误 ("用户的发起H5支付的IP与调起微信支付收银台的IP不一致"),
 *    the failure merchants hit most (server IP sent, or the phone switched network).
 */
const BUYER_IP = '203.0.113.7';
const SCENE = JSON.stringify({ h5_info: { type: 'Wap', wap_url: 'http://localhost', wap_name: 'localhost' } });

describe('H5 payment (MWEB) in the sandbox, raw HTTP', () => {
  let app: AppServer;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await fetch(`${app.baseUrl}/sandbox/sim/h5`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ h5_pay: true, refusal: 'RETURN_FAIL' }) });
    await app?.stop();
  });

  const mweb = (extra: Record<string, string | undefined> = {}) => ({
    body: '沙箱H5商品', out_trade_no: outTradeNo('H5'), total_fee: '1', spbill_create_ip: '203.0.113.7',
    notify_url: 'http://127.0.0.1:9/notify', trade_type: 'MWEB', scene_info: SCENE, ...extra,
  });
  // The buyer's phone: every order below is placed for 203.0.113.7 (spbill_create_ip / payer_client_ip), and
  // the cashier judges the first X-Forwarded-For hop (next start writes the socket there when absent).
  const BUYER = { 'x-forwarded-for': BUYER_IP };
  const cashier = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers: { ...BUYER, ...headers }, redirect: 'manual' });
  const cashierPost = (form: URLSearchParams, headers: Record<string, string> = BUYER) => fetch(`${app.baseUrl}/sandbox/h5pay`, { method: 'POST', headers, body: form, redirect: 'manual' });

  it('v2: an MWEB order answers a signed mweb_url; the cashier checks the Referer domain, pays, and returns to redirect_url', async () => {
    const fields = mweb();
    const r = await wxPost(app.baseUrl, 'unifiedorder', fields);
    expect(r.fields).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS', trade_type: 'MWEB' });
    expect(r.fields.mweb_url).toMatch(new RegExp(`^${app.baseUrl}/sandbox/h5pay\\?prepay_id=wx\\d{14}[0-9a-f]{22}&package=\\d+$`));
    expect(r.fields.code_url).toBeUndefined();
    const back = `${app.baseUrl}/orders/o_x?from=h5`;
    const url = `${r.fields.mweb_url}&redirect_url=${encodeURIComponent(back)}`;

    // No Referer (the URL typed or opened directly): 商家参数格式有误.
    const none = await (await cashier(url)).text();
    expect(none).toContain('data-code="NO_REFERER"');
    expect(none).toContain('商家参数格式有误，请联系商家解决');
    // A page on another domain: 商家存在未配置的参数.
    const other = await (await cashier(url, { referer: 'https://evil.example.com/shop' })).text();
    expect(other).toContain('商家存在未配置的参数，请联系商家解决');
    // A redirect_url off the H5 domain is refused the same way.
    const offBack = await (await cashier(`${r.fields.mweb_url}&redirect_url=${encodeURIComponent('https://evil.example.com/x')}`, { referer: `${app.baseUrl}/shop/x` })).text();
    expect(offBack).toContain('data-code="DOMAIN"');
    // Inside WeChat H5 payment cannot run.
    const inWechat = await (await cashier(url, { referer: `${app.baseUrl}/shop/x`, 'user-agent': 'Mozilla/5.0 MicroMessenger/8.0.49' })).text();
    expect(inWechat).toContain('请在微信外打开订单，进行支付');
    // From the app's own host (the default H5 domain): the order, with Pay and Cancel.
    const page = await (await cashier(url, { referer: `${app.baseUrl}/shop/green-tea` })).text();
    expect(page).toContain('data-testid="sandbox-h5pay"');
    expect(page).toContain('¥0.01');

    const q = new URL(r.fields.mweb_url).searchParams;
    const form = new URLSearchParams({ prepay_id: q.get('prepay_id')!, package: q.get('package')!, redirect_url: back, back: `${app.baseUrl}/shop/green-tea`, result: 'SUCCESS' });
    const paid = await cashierPost(form);
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toBe(back);
    expect((await sandboxOrder(app.baseUrl, fields.out_trade_no))?.state).toBe('SUCCESS');
  });

  it('v2 and v3: the cashier opened from another IP than the order was placed for is refused with WeChat text; the same IP passes', async () => {
    const fields = mweb();
    const r = await wxPost(app.baseUrl, 'unifiedorder', fields);
    const referer = `${app.baseUrl}/shop/green-tea`;
    const other = await (await cashier(r.fields.mweb_url, { referer, 'x-forwarded-for': '198.51.100.9' })).text();
    expect(other).toContain('data-code="IP"');
    expect(other).toContain('网络环境未能通过安全验证，请稍后再试');
    // The same network behind a proxy chain (first hop is the buyer), and an IPv4-mapped spelling, pass.
    expect(await (await cashier(r.fields.mweb_url, { referer, 'x-forwarded-for': `${BUYER_IP}, 10.0.0.1` })).text()).toContain('data-testid="sandbox-h5pay"');
    expect(await (await cashier(r.fields.mweb_url, { referer, 'x-forwarded-for': `::ffff:${BUYER_IP}` })).text()).toContain('data-testid="sandbox-h5pay"');
    // No header: next start writes this request's socket (loopback), not the buyer's 203.0.113.7.
    expect(await (await fetch(r.fields.mweb_url, { headers: { referer }, redirect: 'manual' })).text()).toContain('data-code="IP"');
    // Paying from the other network is refused too, and changes nothing.
    const q = new URL(r.fields.mweb_url).searchParams;
    const form = new URLSearchParams({ prepay_id: q.get('prepay_id')!, package: q.get('package')!, back: referer, result: 'SUCCESS' });
    expect(await (await cashierPost(form, { 'x-forwarded-for': '198.51.100.9' })).text()).toContain('网络环境未能通过安全验证，请稍后再试');
    expect((await sandboxOrder(app.baseUrl, fields.out_trade_no))?.state).toBe('NOTPAY');
    // v3 keeps payer_client_ip the same way.
    const client = await sandboxV3Client(app.baseUrl);
    const { h5_url } = await client.h5({ description: '沙箱H5商品', out_trade_no: outTradeNo('H3'), notify_url: 'http://127.0.0.1:9/notify', amount: { total: 1, currency: 'CNY' as const }, scene_info: { payer_client_ip: BUYER_IP, h5_info: { type: 'Wap' as const } } });
    expect(await (await cashier(h5_url, { referer, 'x-forwarded-for': '198.51.100.9' })).text()).toContain('data-code="IP"');
    expect(await (await cashier(h5_url, { referer })).text()).toContain('data-testid="sandbox-h5pay"');
  });

  it('v2: the paid trade is SUCCESS with trade_type MWEB; an identical re-submission of an unpaid one gets a fresh mweb_url', async () => {
    const fields = mweb();
    const first = await wxPost(app.baseUrl, 'unifiedorder', fields);
    const again = await wxPost(app.baseUrl, 'unifiedorder', fields);
    expect(again.fields.prepay_id).toBe(first.fields.prepay_id);
    expect(again.fields.mweb_url).not.toBe(first.fields.mweb_url);
    const q = new URL(first.fields.mweb_url).searchParams;
    const cancel = await cashierPost(new URLSearchParams({ prepay_id: q.get('prepay_id')!, package: q.get('package')!, back: `${app.baseUrl}/shop/x`, result: 'CANCEL' }));
    // No redirect_url: back to the page that opened the cashier.
    expect(cancel.headers.get('location')).toBe(`${app.baseUrl}/shop/x`);
    expect((await sandboxOrder(app.baseUrl, fields.out_trade_no))?.state).toBe('NOTPAY');
    const pay = await cashierPost(new URLSearchParams({ prepay_id: q.get('prepay_id')!, package: q.get('package')!, back: `${app.baseUrl}/shop/x`, result: 'SUCCESS' }));
    expect(pay.status).toBe(303);
    const paid = await waitFor(async () => {
      const o = await sandboxOrder(app.baseUrl, fields.out_trade_no);
      return o?.state === 'SUCCESS' ? o : undefined;
    });
    expect(paid.trade_type).toBe('MWEB');
    const query = await wxPost(app.baseUrl, 'orderquery', { out_trade_no: fields.out_trade_no });
    expect(query.fields).toMatchObject({ trade_state: 'SUCCESS', trade_type: 'MWEB', total_fee: '1' });
  });

  it('v2: missing or malformed scene_info is refused unsigned, a missing spbill_create_ip too', async () => {
    const missing = await wxPost(app.baseUrl, 'unifiedorder', mweb({ scene_info: undefined }));
    expect(missing.fields).toEqual({ return_code: 'FAIL', return_msg: '缺少参数scene_info' });
    const bad = await wxPost(app.baseUrl, 'unifiedorder', mweb({ scene_info: '{"h5_info":{"type":"Wap"}}' }));
    expect(bad.fields.return_code).toBe('FAIL');
    expect(bad.fields.return_msg).toMatch(/^scene_info参数格式错误/);
    expect(bad.fields.sign).toBeUndefined();
    const noIp = await wxPost(app.baseUrl, 'unifiedorder', mweb({ spbill_create_ip: undefined }));
    expect(noIp.fields).toEqual({ return_code: 'FAIL', return_msg: '缺少参数spbill_create_ip' });
  });

  it('v2 and v3: without H5 permission MWEB answers NO_AUTH as WeChat does; JSON switch and back', async () => {
    const off = await fetch(`${app.baseUrl}/sandbox/sim/h5`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ h5_pay: false }) });
    expect(await off.json()).toMatchObject({ ok: true, mch_id: '10000100', h5_pay: false, refusal: 'RETURN_FAIL' });
    // By default as live: unsigned return_code=FAIL.
    const live = await wxPost(app.baseUrl, 'unifiedorder', mweb());
    expect(live.fields).toEqual({ return_code: 'FAIL', return_msg: '商户号该产品权限未开通，请前往商户平台>产品中心检查后重试' });
    // The documented signed form on request.
    const noauth = await fetch(`${app.baseUrl}/sandbox/sim/h5`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ h5_pay: false, refusal: 'NOAUTH' }) });
    expect(await noauth.json()).toMatchObject({ ok: true, h5_pay: false, refusal: 'NOAUTH' });
    const r = await wxPost(app.baseUrl, 'unifiedorder', mweb());
    expect(r.fields).toMatchObject({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'NOAUTH', err_code_des: '商户无此接口权限' });
    expect(r.fields.sign).toBeDefined();
    // A bad refusal form changes nothing.
    expect((await fetch(`${app.baseUrl}/sandbox/sim/h5`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ h5_pay: true, refusal: 'SOMETIMES' }) })).status).toBe(400);
    expect((await (await fetch(`${app.baseUrl}/sandbox/sim/h5`)).json()).merchants[0]).toMatchObject({ h5_pay: false, refusal: 'NOAUTH' });
    const client = await sandboxV3Client(app.baseUrl);
    const order = { description: '沙箱H5商品', out_trade_no: outTradeNo('H3'), notify_url: 'http://127.0.0.1:9/notify', amount: { total: 1, currency: 'CNY' as const }, scene_info: { payer_client_ip: '203.0.113.7', h5_info: { type: 'Wap' as const } } };
    await expect(client.h5(order)).rejects.toMatchObject({ code: 'NO_AUTH', statusCode: 403, message: expect.stringContaining('商户号该产品权限未开通,请前往商户平台>产品中心检查后重试') });
    // A bad switch changes nothing.
    expect((await fetch(`${app.baseUrl}/sandbox/sim/h5`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ h5_pay: 'no' }) })).status).toBe(400);
    await fetch(`${app.baseUrl}/sandbox/sim/h5`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ h5_pay: true, refusal: 'RETURN_FAIL' }) });
    expect((await wxPost(app.baseUrl, 'unifiedorder', mweb())).fields.result_code).toBe('SUCCESS');
    expect((await (await fetch(`${app.baseUrl}/sandbox/sim/h5`)).json()).merchants[0]).toMatchObject({ mch_id: '10000100', h5_pay: true, h5_domains: ['localhost'] });
  });

  it('v3: POST /v3/pay/transactions/h5 answers {h5_url}; scene_info and h5_info are required', async () => {
    const client = await sandboxV3Client(app.baseUrl);
    const order = { description: '沙箱H5商品', out_trade_no: outTradeNo('H3'), notify_url: 'http://127.0.0.1:9/notify', amount: { total: 2, currency: 'CNY' as const }, scene_info: { payer_client_ip: '203.0.113.7', h5_info: { type: 'Wap' as const } } };
    const { h5_url } = await client.h5(order);
    expect(h5_url).toMatch(new RegExp(`^${app.baseUrl}/sandbox/h5pay\\?prepay_id=wx\\d+[0-9a-f]+&package=\\d+$`));
    const page = await (await cashier(h5_url, { referer: `${app.baseUrl}/pay/cs_x` })).text();
    expect(page).toContain('¥0.02');
    // Raw bodies the client would refuse to send: WeChat's PARAM_ERROR names the field.
    const keys = await (await fetch(`${app.baseUrl}/sandbox/sim/keys`)).json();
    const raw = async (body: Record<string, unknown>) => {
      const url = '/sandbox/mch/v3/pay/transactions/h5';
      const text = JSON.stringify({ appid: keys.appid, mchid: keys.mchid, ...body });
      const { authorization } = signRequest({ method: 'POST', url, body: text, mchid: keys.mchid, serialNo: keys.serial_no, privateKey: keys.private_key_pem });
      const res = await fetch(app.baseUrl + url, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: text });
      return { status: res.status, json: await res.json() };
    };
    const noScene = await raw({ ...order, out_trade_no: outTradeNo('H3'), scene_info: undefined });
    expect(noScene).toMatchObject({ status: 400, json: { code: 'PARAM_ERROR', detail: { field: '/scene_info' } } });
    const noType = await raw({ ...order, out_trade_no: outTradeNo('H3'), scene_info: { payer_client_ip: '203.0.113.7' } });
    expect(noType).toMatchObject({ status: 400, json: { code: 'PARAM_ERROR', detail: { field: '/scene_info/h5_info/type' } } });
  });
});
