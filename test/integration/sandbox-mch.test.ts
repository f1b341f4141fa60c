import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '@/lib/wechatpay/sign';
import { formatWxTime } from '@/lib/wechatpay/time';
import { type AppServer, startApp } from '../helpers/server';
import { defaultOpenid, outTradeNo, sandboxPay, SBX, wxPost } from '../helpers/sandbox';

/**
 * WeChat Pay's side of the sandbox over real HTTP, with requests built by hand from the protocol facts
 * (docs/wechatpay-v2.md): signatures, validation, the out_trade_no rules, orderquery and closeorder.
 * Refunds, bills, faults and live mode: sandbox-mch-money.test.ts.
 */
describe('sandbox WeChat Pay API (SQLite)', () => {
  let app: AppServer;
  let base: string;
  let openid: string;
  beforeAll(async () => {
    // Closes trades seconds after placing them: WeChat's 5-minute closeorder rule is off here (wx-closeorder.test.ts keeps it).
    app = await startApp({ env: { SANDBOX_CLOSE_MIN_AGE_S: '0' } });
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

  /** A parameter refusal, as WeChat answers it: unsigned return_code=FAIL, the reason in return_msg (wx-param-errors.test.ts). */
  async function expectFail(fields: Record<string, string | undefined>, msgMatch: RegExp) {
    const r = await wxPost(base, 'unifiedorder', fields);
    expect(r.fields.return_code, r.text).toBe('FAIL');
    expect(r.fields.return_msg).toMatch(msgMatch);
    expect(r.fields.sign).toBeUndefined();
    expect(r.fields.err_code).toBeUndefined();
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

    it('knows only its merchants: unknown mch_id and appid', async () => {
      // WeChat's unifiedorder error list: "MCHID_NOT_EXIST 商户号不存在 请检查MCHID是否正确". There is no merchant
      // key to sign it with, so the answer is unsigned (docs/sandbox.md, Conservative choices).
      const unknown = await wxPost(base, 'unifiedorder', { ...native(), mch_id: '19999999' });
      expect(unknown.fields).toMatchObject({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'MCHID_NOT_EXIST' });
      expect(unknown.fields.sign).toBeUndefined();
      await expectErr({ ...native(), appid: 'wx0000000000000000' }, 'APPID_NOT_EXIST');
      await expectFail({ ...native(), nonce_str: '' }, /nonce_str/);
    });

    it('an unknown API path is a 404', async () => {
      const r = await fetch(`${base}/sandbox/mch/pay/micropay`, { method: 'POST', body: '<xml/>' });
      expect(r.status).toBe(404);
    });
  });

  describe('unifiedorder validation', () => {
    it('names each missing required field (return_code FAIL 缺少参数...)', async () => {
      for (const k of ['body', 'out_trade_no', 'total_fee', 'spbill_create_ip', 'notify_url', 'trade_type']) {
        await expectFail(native({ [k]: undefined }), new RegExp(k));
      }
      await expectFail(jsapi({ openid: undefined }), /openid/);
      await expectFail(native({ product_id: undefined }), /product_id/);
    });

    it('checks out_trade_no charset and length', async () => {
      await expectFail(native({ out_trade_no: 'A1234' }), /out_trade_no/);
      await expectFail(native({ out_trade_no: 'A'.repeat(33) }), /out_trade_no/);
      await expectFail(native({ out_trade_no: 'ABC#123456' }), /out_trade_no/);
      const ok = await wxPost(base, 'unifiedorder', native({ out_trade_no: `a_-|*${Date.now()}`.slice(0, 32) }));
      expect(ok.fields.result_code, ok.text).toBe('SUCCESS');
      const leadingZeros = `0012${Date.now()}`;
      const z = await wxPost(base, 'unifiedorder', native({ out_trade_no: leadingZeros }));
      expect(z.fields.result_code).toBe('SUCCESS');
      const q = await wxPost(base, 'orderquery', { out_trade_no: leadingZeros });
      expect(q.fields.out_trade_no).toBe(leadingZeros);
    });

    it('requires total_fee to be a positive integer of fen', async () => {
      for (const v of ['0', '-1', '1.5', 'abc', '01']) await expectFail(native({ total_fee: v }), /total_fee/);
    });

    it('limits body to 127 bytes of UTF-8', async () => {
      await expectFail(native({ body: '商'.repeat(43) }), /body/); // 129 bytes
      const ok = await wxPost(base, 'unifiedorder', native({ body: '商'.repeat(42) })); // 126 bytes
      expect(ok.fields.result_code).toBe('SUCCESS');
    });

    it('wants notify_url absolute and without a query string', async () => {
      await expectFail(native({ notify_url: '/api/wechatpay/notify' }), /notify_url/);
      await expectFail(native({ notify_url: 'http://127.0.0.1:9/notify?x=1' }), /notify_url/);
      await expectFail(native({ notify_url: 'ftp://example.com/notify' }), /notify_url/);
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
      await expectFail(native({ time_expire: '2026-11-22 12:00:00' }), /time_expire/);
      await expectFail(native({ time_expire: '20261332250000' }), /time_expire/);
      // Too close is refused unsigned, as WeChat does (wx-time-expire.test.ts).
      expect((await wxPost(base, 'unifiedorder', native({ time_expire: formatWxTime(Date.now() + 30_000) }))).fields).toMatchObject({ return_code: 'FAIL', return_msg: 'time_expire时间过短，刷卡至少1分钟，其他5分钟' });
      await expectFail(native({ time_start: 'now', time_expire: formatWxTime(Date.now() + 600_000) }), /time_start/);
      const ok = await wxPost(base, 'unifiedorder', native({ time_expire: formatWxTime(Date.now() + 15 * 60_000) }));
      expect(ok.fields.result_code, ok.text).toBe('SUCCESS');
    });

    it('supports JSAPI, NATIVE and MWEB (wx-mweb.test.ts), not APP', async () => {
      await expectErr(native({ trade_type: 'APP' }), 'NOAUTH');
      await expectFail(native({ trade_type: 'CASH' }), /trade_type/);
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
      expect(lack.fields).toEqual({ return_code: 'FAIL', return_msg: '缺少参数out_trade_no' });
      const f = jsapi({ attach: 'a=1', total_fee: '123' });
      const u = await wxPost(base, 'unifiedorder', f);
      let q = await wxPost(base, 'orderquery', { out_trade_no: f.out_trade_no });
      expect(q.fields).toMatchObject({ result_code: 'SUCCESS', trade_state: 'NOTPAY', out_trade_no: f.out_trade_no });
      expect(q.fields.transaction_id).toBeUndefined();
      // USERPAYING is not final: the buyer goes on to pay (PAYERROR is final: test/integration/wx-payerror.test.ts).
      expect((await sandboxPay(base, { prepay_id: u.fields.prepay_id, result: 'USERPAYING' })).json.state).toBe('USERPAYING');
      q = await wxPost(base, 'orderquery', { out_trade_no: f.out_trade_no });
      expect(q.fields).toMatchObject({ trade_state: 'USERPAYING', trade_state_desc: '用户支付中' });
      const before = Date.now();
      const p = await sandboxPay(base, { prepay_id: u.fields.prepay_id });
      expect(p.status).toBe(200);
      q = await wxPost(base, 'orderquery', { out_trade_no: f.out_trade_no });
      expect(q.fields).toMatchObject({
        trade_state: 'SUCCESS', openid, trade_type: 'JSAPI', total_fee: '123', cash_fee: '123', fee_type: 'CNY',
        attach: 'a=1', is_subscribe: 'N', bank_type: 'OTHERS', transaction_id: p.json.transaction_id,
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
});
