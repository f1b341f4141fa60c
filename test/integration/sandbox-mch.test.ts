import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '@/lib/wechatpay/sign';
import { formatWxDate, formatWxTime } from '@/lib/wechatpay/time';
import { type AppServer, startApp } from '../helpers/server';
import { clearFaults, defaultOpenid, outTradeNo, sandboxPay, SBX, setFaults, waitFor, wxPost } from '../helpers/sandbox';

/**
 * WeChat Pay's side of the sandbox over real HTTP, with requests built by hand from the protocol facts
 * (wechatpay-v2.md): signatures, validation, the out_trade_no rules, query/close/refund/bill, faults.
 */
describe('sandbox WeChat Pay API (SQLite)', () => {
  let app: AppServer;
  let base: string;
  let openid: string;
  beforeAll(async () => {
    app = await startApp();
    base = app.baseUrl;
    openid = await defaultOpenid(base);
  });
  afterAll(async () => app?.stop());

  const native = (over: Record<string, string | undefined> = {}) => ({
    body: '沙箱测试商品', out_trade_no: outTradeNo(), total_fee: '1', spbill_create_ip: '127.0.0.1',
    notify_url: 'http://127.0.0.1:9/notify', trade_type: 'NATIVE', product_id: 'sku-1', ...over,
  });
  const jsapi = (over: Record<string, string | undefined> = {}) => ({ ...native({ trade_type: 'JSAPI', product_id: undefined, openid }), ...over });

  async function expectErr(fields: Record<string, string | undefined>, errCode: string, desMatch?: RegExp) {
    const r = await wxPost(base, 'unifiedorder', fields);
    expect(r.fields.return_code, r.text).toBe('SUCCESS');
    expect(r.fields.result_code, r.text).toBe('FAIL');
    expect(r.fields.err_code, r.text).toBe(errCode);
    if (desMatch) expect(r.fields.err_code_des).toMatch(desMatch);
    // Business refusals are signed like every SUCCESS answer.
    expect(r.fields.sign).toBe(sign(r.fields, SBX.apiKey, 'MD5'));
    return r;
  }

  describe('signature and transport', () => {
    it('refuses a request signed with another key: return_code FAIL 签名错误, unsigned', async () => {
      const r = await wxPost(base, 'unifiedorder', native(), { key: 'ffffffffffffffffffffffffffffffff' });
      expect(r.status).toBe(200);
      expect(r.fields).toMatchObject({ return_code: 'FAIL', return_msg: '签名错误' });
      expect(r.fields.sign).toBeUndefined();
    });

    it('verifies with the request sign_type: HMAC declared but MD5 computed fails; unknown sign_type fails', async () => {
      const f = { appid: SBX.appid, mch_id: SBX.mchId, nonce_str: 'abc', sign_type: 'HMAC-SHA256', ...native() };
      const md5 = sign(f, SBX.apiKey, 'MD5');
      const body = `<xml>${Object.entries({ ...f, sign: md5 }).map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`).join('')}</xml>`;
      const r = await wxPost(base, 'unifiedorder', {}, { rawBody: body });
      expect(r.fields).toMatchObject({ return_code: 'FAIL', return_msg: '签名错误' });
      const bad = await wxPost(base, 'unifiedorder', native({ sign_type: 'SHA1' }));
      expect(bad.fields.return_code).toBe('FAIL');
    });

    it('answers an HMAC-SHA256 request signed with HMAC-SHA256 (no sign_type echoed)', async () => {
      const r = await wxPost(base, 'unifiedorder', native(), { signType: 'HMAC-SHA256' });
      expect(r.fields.result_code, r.text).toBe('SUCCESS');
      expect(r.fields.sign_type).toBeUndefined();
      expect(r.fields.sign).toBe(sign(r.fields, SBX.apiKey, 'HMAC-SHA256'));
      expect(r.fields.sign).not.toBe(sign(r.fields, SBX.apiKey, 'MD5'));
    });

    it('refuses GET, an empty body, DOCTYPE and non-XML with return_code FAIL', async () => {
      expect((await wxPost(base, 'unifiedorder', {}, { method: 'GET' })).fields).toMatchObject({ return_code: 'FAIL', return_msg: '请使用post方法' });
      expect((await wxPost(base, 'unifiedorder', {}, { rawBody: '' })).fields.return_code).toBe('FAIL');
      const xxe = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><appid>&e;</appid></xml>';
      expect((await wxPost(base, 'unifiedorder', {}, { rawBody: xxe })).fields).toMatchObject({ return_code: 'FAIL', return_msg: 'XML格式错误' });
      expect((await wxPost(base, 'unifiedorder', {}, { rawBody: '{"json":true}' })).fields.return_code).toBe('FAIL');
    });

    it('knows only its merchant: unknown mch_id and appid', async () => {
      await expectErr({ ...native(), mch_id: '19999999' }, 'MCHID_NOT_EXIST');
      await expectErr({ ...native(), appid: 'wx0000000000000000' }, 'APPID_NOT_EXIST');
      await expectErr({ ...native(), nonce_str: '' }, 'LACK_PARAMS', /nonce_str/);
    });

    it('an unknown API path is a 404', async () => {
      const r = await fetch(`${base}/sandbox/mch/pay/micropay`, { method: 'POST', body: '<xml/>' });
      expect(r.status).toBe(404);
    });
  });

  describe('unifiedorder validation', () => {
    it('names each missing required field (LACK_PARAMS)', async () => {
      for (const k of ['body', 'out_trade_no', 'total_fee', 'spbill_create_ip', 'notify_url', 'trade_type']) {
        await expectErr(native({ [k]: undefined }), 'LACK_PARAMS', new RegExp(k));
      }
      await expectErr(jsapi({ openid: undefined }), 'LACK_PARAMS', /openid/);
      await expectErr(native({ product_id: undefined }), 'LACK_PARAMS', /product_id/);
    });

    it('checks out_trade_no charset and length', async () => {
      await expectErr(native({ out_trade_no: 'A1234' }), 'PARAM_ERROR', /out_trade_no/);
      await expectErr(native({ out_trade_no: 'A'.repeat(33) }), 'PARAM_ERROR', /out_trade_no/);
      await expectErr(native({ out_trade_no: 'ABC#123456' }), 'PARAM_ERROR', /out_trade_no/);
      const ok = await wxPost(base, 'unifiedorder', native({ out_trade_no: `a_-|*${Date.now()}`.slice(0, 32) }));
      expect(ok.fields.result_code, ok.text).toBe('SUCCESS');
      const leadingZeros = `0012${Date.now()}`;
      const z = await wxPost(base, 'unifiedorder', native({ out_trade_no: leadingZeros }));
      expect(z.fields.result_code).toBe('SUCCESS');
      const q = await wxPost(base, 'orderquery', { out_trade_no: leadingZeros });
      expect(q.fields.out_trade_no).toBe(leadingZeros);
    });

    it('requires total_fee to be a positive integer of fen', async () => {
      for (const v of ['0', '-1', '1.5', 'abc', '01']) await expectErr(native({ total_fee: v }), 'PARAM_ERROR', /total_fee/);
    });

    it('limits body to 127 bytes of UTF-8', async () => {
      await expectErr(native({ body: '商'.repeat(43) }), 'PARAM_ERROR', /body/); // 129 bytes
      const ok = await wxPost(base, 'unifiedorder', native({ body: '商'.repeat(42) })); // 126 bytes
      expect(ok.fields.result_code).toBe('SUCCESS');
    });

    it('wants notify_url absolute and without a query string', async () => {
      await expectErr(native({ notify_url: '/api/wechatpay/notify' }), 'PARAM_ERROR', /notify_url/);
      await expectErr(native({ notify_url: 'http://127.0.0.1:9/notify?x=1' }), 'PARAM_ERROR', /notify_url/);
      await expectErr(native({ notify_url: 'ftp://example.com/notify' }), 'PARAM_ERROR', /notify_url/);
    });

    it('wants an openid this appid knows for JSAPI', async () => {
      await expectErr(jsapi({ openid: 'oUnknownUnknownUnknownUnknow' }), 'PARAM_ERROR', /openid/);
      const ok = await wxPost(base, 'unifiedorder', jsapi());
      expect(ok.fields.result_code, ok.text).toBe('SUCCESS');
      expect(ok.fields.trade_type).toBe('JSAPI');
      expect(ok.fields.prepay_id).toMatch(/^wx\d{14}[0-9a-f]+$/);
      expect(ok.fields.code_url).toBeUndefined();
    });

    it('checks time_expire format (UTC+8 yyyyMMddHHmmss) and window', async () => {
      await expectErr(native({ time_expire: '2026-11-22 12:00:00' }), 'PARAM_ERROR', /time_expire/);
      await expectErr(native({ time_expire: '20261332250000' }), 'PARAM_ERROR', /time_expire/);
      await expectErr(native({ time_expire: formatWxTime(Date.now() + 30_000) }), 'PARAM_ERROR', /time_expire/);
      await expectErr(native({ time_start: 'now', time_expire: formatWxTime(Date.now() + 600_000) }), 'PARAM_ERROR', /time_start/);
      const ok = await wxPost(base, 'unifiedorder', native({ time_expire: formatWxTime(Date.now() + 15 * 60_000) }));
      expect(ok.fields.result_code, ok.text).toBe('SUCCESS');
    });

    it('supports only JSAPI and NATIVE', async () => {
      await expectErr(native({ trade_type: 'MWEB' }), 'NOAUTH');
      await expectErr(native({ trade_type: 'CASH' }), 'PARAM_ERROR', /trade_type/);
    });
  });

  describe('out_trade_no rules', () => {
    it('NATIVE: code_url like weixin://wxpay/bizpayurl?pr=...; identical re-submission gives the live prepay; different params 201', async () => {
      const f = native();
      const a = await wxPost(base, 'unifiedorder', f);
      expect(a.fields.result_code).toBe('SUCCESS');
      expect(a.fields.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=[A-Za-z0-9]{7}$/);
      const again = await wxPost(base, 'unifiedorder', f); // fresh nonce_str, same order
      expect(again.fields.result_code).toBe('SUCCESS');
      expect(again.fields.prepay_id).toBe(a.fields.prepay_id);
      expect(again.fields.code_url).toBe(a.fields.code_url);
      await expectErr({ ...f, total_fee: '2' }, 'INVALID_REQUEST', /201 商户订单号重复/);
      await expectErr({ ...f, trade_type: 'JSAPI', product_id: undefined, openid }, 'INVALID_REQUEST', /201 商户订单号重复/);
    });

    it('paid gives ORDERPAID; closed gives ORDERCLOSED', async () => {
      const f = native();
      const a = await wxPost(base, 'unifiedorder', f);
      expect((await sandboxPay(base, { code_url: a.fields.code_url })).json.state).toBe('SUCCESS');
      await expectErr(f, 'ORDERPAID');
      const g = native();
      await wxPost(base, 'unifiedorder', g);
      const c = await wxPost(base, 'closeorder', { out_trade_no: g.out_trade_no });
      expect(c.fields.result_code, c.text).toBe('SUCCESS');
      await expectErr(g, 'ORDERCLOSED');
    });
  });

  describe('orderquery and closeorder', () => {
    it('orderquery: ORDERNOTEXIST, NOTPAY, PAYERROR, SUCCESS with the payment fields, by either id', async () => {
      const none = await wxPost(base, 'orderquery', { out_trade_no: 'NOSUCHORDER1' });
      expect(none.fields.err_code).toBe('ORDERNOTEXIST');
      const lack = await wxPost(base, 'orderquery', {});
      expect(lack.fields.err_code).toBe('LACK_PARAMS');
      const f = jsapi({ attach: 'a=1', total_fee: '123' });
      const u = await wxPost(base, 'unifiedorder', f);
      let q = await wxPost(base, 'orderquery', { out_trade_no: f.out_trade_no });
      expect(q.fields).toMatchObject({ result_code: 'SUCCESS', trade_state: 'NOTPAY', out_trade_no: f.out_trade_no });
      expect(q.fields.transaction_id).toBeUndefined();
      expect((await sandboxPay(base, { prepay_id: u.fields.prepay_id, result: 'FAIL' })).json.state).toBe('PAYERROR');
      q = await wxPost(base, 'orderquery', { out_trade_no: f.out_trade_no });
      expect(q.fields.trade_state).toBe('PAYERROR');
      const before = Date.now();
      const p = await sandboxPay(base, { prepay_id: u.fields.prepay_id });
      expect(p.status).toBe(200);
      q = await wxPost(base, 'orderquery', { out_trade_no: f.out_trade_no });
      expect(q.fields).toMatchObject({
        trade_state: 'SUCCESS', openid, trade_type: 'JSAPI', total_fee: '123', cash_fee: '123', fee_type: 'CNY',
        attach: 'a=1', is_subscribe: 'N', bank_type: 'CFT', transaction_id: p.json.transaction_id,
      });
      expect(q.fields.transaction_id).toMatch(/^\d{28}$/);
      // time_end is Beijing time whatever the server's zone.
      expect([formatWxTime(before - 1000), formatWxTime(before), formatWxTime(Date.now())].some((t) => t.slice(0, 12) === q.fields.time_end.slice(0, 12))).toBe(true);
      const byTxn = await wxPost(base, 'orderquery', { transaction_id: p.json.transaction_id });
      expect(byTxn.fields.out_trade_no).toBe(f.out_trade_no);
    });

    it('closeorder: closes unpaid, then ORDERCLOSED; ORDERPAID for paid; ORDERNOTEXIST', async () => {
      const f = native();
      const u = await wxPost(base, 'unifiedorder', f);
      expect((await wxPost(base, 'closeorder', { out_trade_no: f.out_trade_no })).fields.result_code).toBe('SUCCESS');
      expect((await wxPost(base, 'orderquery', { out_trade_no: f.out_trade_no })).fields.trade_state).toBe('CLOSED');
      expect((await wxPost(base, 'closeorder', { out_trade_no: f.out_trade_no })).fields.err_code).toBe('ORDERCLOSED');
      const paid = await sandboxPay(base, { code_url: u.fields.code_url });
      expect(paid.status).toBe(409);
      expect(paid.json.code).toBe('ORDERCLOSED');
      const g = native();
      const v = await wxPost(base, 'unifiedorder', g);
      await sandboxPay(base, { code_url: v.fields.code_url });
      expect((await wxPost(base, 'closeorder', { out_trade_no: g.out_trade_no })).fields.err_code).toBe('ORDERPAID');
      expect((await wxPost(base, 'closeorder', { out_trade_no: 'NOSUCHORDER2' })).fields.err_code).toBe('ORDERNOTEXIST');
    });
  });

  describe('refund and refundquery', () => {
    async function paidOrder(totalFee: string) {
      const f = native({ total_fee: totalFee });
      const u = await wxPost(base, 'unifiedorder', f);
      const p = await sandboxPay(base, { code_url: u.fields.code_url });
      return { outTradeNo: f.out_trade_no, transactionId: p.json.transaction_id as string };
    }
    const refundReq = (o: { outTradeNo: string }, total: string, fee: string, no = outTradeNo('R')) => ({
      out_trade_no: o.outTradeNo, out_refund_no: no, total_fee: total, refund_fee: fee, notify_url: 'http://127.0.0.1:9/refund-notify',
    });

    it('refuses unpaid and unknown orders, a wrong total_fee and more than what is left', async () => {
      const f = native();
      await wxPost(base, 'unifiedorder', f);
      expect((await wxPost(base, 'refund', refundReq({ outTradeNo: f.out_trade_no }, '1', '1'))).fields.err_code).toBe('TRADE_STATE_ERROR');
      expect((await wxPost(base, 'refund', refundReq({ outTradeNo: 'NOSUCHORDER3' }, '1', '1'))).fields.err_code).toBe('ORDERNOTEXIST');
      const o = await paidOrder('100');
      expect((await wxPost(base, 'refund', refundReq(o, '99', '10'))).fields.err_code).toBe('PARAM_ERROR');
      const over = await wxPost(base, 'refund', refundReq(o, '100', '101'));
      expect(over.fields.err_code).toBe('ERROR');
      expect(over.fields.err_code_des).toMatch(/超过/);
      expect((await wxPost(base, 'refund', { ...refundReq(o, '100', '1'), out_refund_no: undefined })).fields.err_code).toBe('LACK_PARAMS');
    });

    it('partial refunds up to the total, idempotent per out_refund_no, REFUND state, refundquery', async () => {
      const o = await paidOrder('100');
      const r1 = refundReq(o, '100', '30');
      const a = await wxPost(base, 'refund', r1);
      expect(a.fields, a.text).toMatchObject({ result_code: 'SUCCESS', out_refund_no: r1.out_refund_no, refund_fee: '30', total_fee: '100', transaction_id: o.transactionId });
      expect(a.fields.refund_id).toMatch(/^\d{29}$/);
      expect(a.fields.sign).toBe(sign(a.fields, SBX.apiKey, 'MD5'));
      const again = await wxPost(base, 'refund', r1);
      expect(again.fields.refund_id).toBe(a.fields.refund_id);
      expect((await wxPost(base, 'refund', { ...r1, refund_fee: '31' })).fields.err_code).toBe('PARAM_ERROR');
      expect((await wxPost(base, 'orderquery', { out_trade_no: o.outTradeNo })).fields.trade_state).toBe('REFUND');
      const r2 = refundReq(o, '100', '70');
      expect((await wxPost(base, 'refund', r2)).fields.result_code).toBe('SUCCESS');
      expect((await wxPost(base, 'refund', refundReq(o, '100', '1'))).fields.err_code).toBe('ERROR');
      // Settles quickly at SANDBOX_TIME_SCALE=1000.
      const q = await waitFor(async () => {
        const r = await wxPost(base, 'refundquery', { out_trade_no: o.outTradeNo });
        return r.fields.refund_status_1 === 'SUCCESS' && r.fields.refund_status_0 === 'SUCCESS' ? r : undefined;
      });
      expect(q.fields).toMatchObject({ refund_count: '2', out_refund_no_0: r1.out_refund_no, refund_fee_0: '30', out_refund_no_1: r2.out_refund_no, refund_fee_1: '70', total_fee: '100' });
      expect(q.fields.refund_success_time_0).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      const one = await wxPost(base, 'refundquery', { out_refund_no: r2.out_refund_no });
      expect(one.fields).toMatchObject({ refund_count: '1', refund_id_0: expect.any(String), refund_fee_0: '70' });
      expect((await wxPost(base, 'refundquery', { out_refund_no: 'NOSUCHREFUND' })).fields.err_code).toBe('REFUNDNOTEXIST');
      expect((await wxPost(base, 'refundquery', {})).fields.err_code).toBe('LACK_PARAMS');
    });

    it('at most 50 refunds per order', async () => {
      const o = await paidOrder('60');
      for (let i = 0; i < 50; i++) {
        const r = await wxPost(base, 'refund', refundReq(o, '60', '1'));
        expect(r.fields.result_code, r.text).toBe('SUCCESS');
      }
      const r = await wxPost(base, 'refund', refundReq(o, '60', '1'));
      expect(r.fields.err_code).toBe('ERROR');
      expect(r.fields.err_code_des).toMatch(/50/);
    });
  });

  describe('downloadbill', () => {
    it("produces WeChat's text bill for today (UTC+8) and No Bill Exist for an empty day", async () => {
      const f = native({ total_fee: '250', body: '账单,测试' });
      const u = await wxPost(base, 'unifiedorder', f);
      await sandboxPay(base, { code_url: u.fields.code_url });
      const r = await wxPost(base, 'downloadbill', { bill_date: formatWxDate(Date.now()), bill_type: 'ALL' });
      expect(r.status).toBe(200);
      expect(r.contentType).toMatch(/text\/plain/);
      const lines = r.text.trim().split(/\r?\n/);
      expect(lines[0]).toBe('交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注');
      expect(lines[lines.length - 2]).toBe('总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额');
      const row = lines.find((l) => l.includes(f.out_trade_no))!;
      expect(row.startsWith('`')).toBe(true);
      const cells = row.slice(1).split(',`');
      expect(cells).toHaveLength(27);
      expect(cells[1]).toBe(SBX.appid);
      expect(cells[6]).toBe(f.out_trade_no);
      expect(cells[9]).toBe('SUCCESS');
      expect(cells[12]).toBe('2.50');
      expect(cells[20]).toBe('账单,测试');
      expect(cells[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      const summary = lines[lines.length - 1].slice(1).split(',`');
      expect(summary).toHaveLength(7);
      expect(Number(summary[0])).toBe(lines.length - 3);
      const success = await wxPost(base, 'downloadbill', { bill_date: formatWxDate(Date.now()), bill_type: 'SUCCESS' });
      expect(success.text.split(/\r?\n/)[0].split(',')).toHaveLength(20);
      const empty = await wxPost(base, 'downloadbill', { bill_date: '20200101' });
      expect(empty.fields).toMatchObject({ return_code: 'FAIL', return_msg: 'No Bill Exist' });
      expect((await wxPost(base, 'downloadbill', { bill_date: '2020-01-01' })).fields.err_code).toBe('PARAM_ERROR');
      expect((await wxPost(base, 'downloadbill', {})).fields.err_code).toBe('LACK_PARAMS');
    });
  });

  describe('faults', () => {
    it('SYSTEMERROR for the next N calls of one API, then normal', async () => {
      await setFaults(base, { api: 'orderquery', fault: 'SYSTEMERROR', count: 2 });
      const f = native();
      const u = await wxPost(base, 'unifiedorder', f); // other APIs unaffected
      expect(u.fields.result_code).toBe('SUCCESS');
      for (let i = 0; i < 2; i++) {
        const q = await wxPost(base, 'orderquery', { out_trade_no: f.out_trade_no });
        expect(q.fields).toMatchObject({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'SYSTEMERROR' });
        expect(q.fields.sign).toBe(sign(q.fields, SBX.apiKey, 'MD5'));
      }
      expect((await wxPost(base, 'orderquery', { out_trade_no: f.out_trade_no })).fields.trade_state).toBe('NOTPAY');
    });

    it('HTTP 500 and delays; any API with "*"; DELETE clears', async () => {
      await setFaults(base, { api: '*', fault: 'HTTP500', count: 1 });
      const r = await wxPost(base, 'closeorder', { out_trade_no: 'X123456' });
      expect(r.status).toBe(500);
      await setFaults(base, { api: 'unifiedorder', fault: 'DELAY', count: 1, delayMs: 600 });
      const t0 = Date.now();
      const d = await wxPost(base, 'unifiedorder', native());
      expect(Date.now() - t0).toBeGreaterThanOrEqual(580);
      expect(d.fields.result_code).toBe('SUCCESS');
      await setFaults(base, { api: 'refundquery', fault: 'SYSTEMERROR', count: 5 });
      const listed = await (await fetch(`${base}/sandbox/sim/faults`)).json();
      expect(listed.faults).toHaveLength(1);
      await clearFaults(base);
      expect((await wxPost(base, 'refundquery', { out_refund_no: 'NOSUCHREFUND' })).fields.err_code).toBe('REFUNDNOTEXIST');
    });

    it('refuses a malformed fault and stores nothing', async () => {
      for (const body of [{ fault: 'EXPLODE', count: 1 }, { fault: 'SYSTEMERROR', count: 0 }, { api: 'pay', fault: 'SYSTEMERROR', count: 1 }, { fault: 'DELAY', count: 1 }]) {
        const r = await fetch(`${base}/sandbox/sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        expect(r.status).toBe(400);
      }
      expect((await (await fetch(`${base}/sandbox/sim/faults`)).json()).faults).toEqual([]);
    });
  });
});

describe('sandbox in live mode', () => {
  let app: AppServer;
  beforeAll(async () => {
    app = await startApp({
      env: {
        WECHAT_MODE: 'live', PUBLIC_BASE_URL: 'https://shop.example.com', WECHAT_APPID: 'wx1234567890abcdef', WECHAT_APP_SECRET: 'live-secret',
        WECHATPAY_MCH_ID: '1900000109', WECHATPAY_API_KEY: '0123456789abcdef0123456789abcdef', MERCHANT_PASSWORD: 'a-long-password', SESSION_SECRET: 'x'.repeat(40),
      },
    });
  });
  afterAll(async () => app?.stop());

  it('answers 404 for every /sandbox route', async () => {
    const b = app.baseUrl;
    const gets = ['/sandbox', '/sandbox/bridge.js', '/sandbox/sim/orders', '/sandbox/scan?code_url=x', `/sandbox/open/connect/oauth2/authorize?appid=${SBX.appid}&redirect_uri=x&response_type=code&scope=snsapi_base`, '/sandbox/api/sns/oauth2/access_token?appid=x', '/sandbox/sim/faults'];
    for (const p of gets) expect((await fetch(`${b}${p}`, { redirect: 'manual' })).status, p).toBe(404);
    const posts = ['/sandbox/mch/pay/unifiedorder', '/sandbox/mch/secapi/pay/refund', '/sandbox/sim/pay', '/sandbox/sim/faults', '/sandbox/sim/jsapi/check', '/sandbox/sim/users', '/sandbox/sim/browser-mode', '/sandbox/sim/deliveries/resend', '/sandbox/scan/pay'];
    for (const p of posts) expect((await fetch(`${b}${p}`, { method: 'POST', body: '<xml></xml>', redirect: 'manual' })).status, p).toBe(404);
  });
});
