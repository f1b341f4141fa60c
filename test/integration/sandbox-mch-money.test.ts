import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '@/lib/wechatpay/sign';
import { formatWxDate } from '@/lib/wechatpay/time';
import { type AppServer, startApp } from '../helpers/server';
import { clearFaults, outTradeNo, sandboxPay, SBX, setFaults, waitFor, wxPost } from '../helpers/sandbox';

/** WeChat Pay's side of the sandbox, part 2: refunds, bills, faults, and live mode's 404s (hand-built requests). */
describe('sandbox WeChat Pay API: refunds, bills, faults (SQLite)', () => {
  let app: AppServer;
  let base: string;
  beforeAll(async () => {
    // Today's bill at once (WeChat's is made by 10:00 the next morning: test/integration/wx-bills.test.ts).
    app = await startApp({ env: { SANDBOX_BILL_READY_HOUR: '0' } });
    base = app.baseUrl;
  });
  afterAll(async () => app?.stop());

  const native = (over: Record<string, string | undefined> = {}) => ({
    body: '沙箱测试商品', out_trade_no: outTradeNo(), total_fee: '1', spbill_create_ip: '127.0.0.1',
    notify_url: 'http://127.0.0.1:9/notify', trade_type: 'NATIVE', product_id: 'sku-1', ...over,
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
      // v2 refunds know only paid trades (wx-refund-errors.test.ts).
      expect((await wxPost(base, 'refund', refundReq({ outTradeNo: f.out_trade_no }, '1', '1'))).fields.err_code).toBe('ORDERNOTEXIST');
      expect((await wxPost(base, 'refund', refundReq({ outTradeNo: 'NOSUCHORDER3' }, '1', '1'))).fields.err_code).toBe('ORDERNOTEXIST');
      const o = await paidOrder('100');
      expect((await wxPost(base, 'refund', refundReq(o, '99', '10'))).fields.err_code).toBe('INVALID_REQUEST');
      const over = await wxPost(base, 'refund', refundReq(o, '100', '101'));
      expect(over.fields.err_code).toBe('INVALID_REQUEST');
      expect(over.fields.err_code_des).toMatch(/超过/);
      expect((await wxPost(base, 'refund', { ...refundReq(o, '100', '1'), out_refund_no: undefined })).fields).toEqual({ return_code: 'FAIL', return_msg: '缺少参数out_refund_no' });
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
      expect((await wxPost(base, 'refund', { ...r1, refund_fee: '31' })).fields.err_code).toBe('INVALID_REQUEST');
      expect((await wxPost(base, 'orderquery', { out_trade_no: o.outTradeNo })).fields.trade_state).toBe('REFUND');
      const r2 = refundReq(o, '100', '70');
      expect((await wxPost(base, 'refund', r2)).fields.result_code).toBe('SUCCESS');
      expect((await wxPost(base, 'refund', refundReq(o, '100', '1'))).fields.err_code).toBe('INVALID_REQUEST');
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
      expect((await wxPost(base, 'refundquery', {})).fields).toEqual({ return_code: 'FAIL', return_msg: '缺少参数out_refund_no' });
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
      const rf = await wxPost(base, 'refund', { out_trade_no: f.out_trade_no, out_refund_no: `${f.out_trade_no}R`, total_fee: '250', refund_fee: '100', notify_url: 'http://127.0.0.1:9/r' });
      expect(rf.fields.result_code, rf.text).toBe('SUCCESS');
      const all = (await wxPost(base, 'downloadbill', { bill_date: formatWxDate(Date.now()) })).text.trim().split(/\r?\n/);
      const mine = all.filter((l) => l.includes(f.out_trade_no)).map((l) => l.slice(1).split(',`'));
      expect(mine.map((c) => [c[9], c[16], c[25]])).toEqual([['SUCCESS', '0.00', '0.00'], ['REFUND', '1.00', '1.00']]);
      expect(mine[1][14]).toBe(rf.fields.refund_id);
      const refundBill = (await wxPost(base, 'downloadbill', { bill_date: formatWxDate(Date.now()), bill_type: 'REFUND' })).text.trim().split(/\r?\n/);
      expect(refundBill[0].split(',')).toHaveLength(29);
      const refundRow = refundBill.find((l) => l.includes(f.out_trade_no))!.slice(1).split(',`');
      expect(refundRow).toHaveLength(29);
      expect(refundRow[18]).toBe('1.00');
      const refundSummary = refundBill[refundBill.length - 1].slice(1).split(',`');
      expect(Number(refundSummary[2])).toBeGreaterThanOrEqual(1);
      const empty = await wxPost(base, 'downloadbill', { bill_date: '20200101' });
      expect(empty.fields).toMatchObject({ return_code: 'FAIL', return_msg: 'No Bill Exist' });
      // Parameter refusals: unsigned return_code=FAIL with the reason (as for No Bill Exist).
      expect((await wxPost(base, 'downloadbill', { bill_date: '2020-01-01' })).fields).toEqual({ return_code: 'FAIL', return_msg: 'bill_date参数格式错误：yyyyMMdd' });
      expect((await wxPost(base, 'downloadbill', { bill_date: '20261399' })).fields).toEqual({ return_code: 'FAIL', return_msg: 'bill_date参数格式错误：yyyyMMdd' });
      expect((await wxPost(base, 'downloadbill', {})).fields).toEqual({ return_code: 'FAIL', return_msg: '缺少参数bill_date' });
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
