import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { nonceStr, sign, verify } from '@/lib/wechatpay/sign';
import { formatRfc3339Cst } from '@/lib/wechatpay/v3/time';
import { formatWxTime } from '@/lib/wechatpay/time';
import { buildXml, parseXml } from '@/lib/wechatpay/xml';
import { placeSandboxAttempt, waitFor } from '../helpers/orders';
import { notifyReceiver, outTradeNo, SBX, sandboxOrder, sandboxPay, SUCCESS_REPLY, wxPost } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';
import { sandboxV3Client, VERSIONS } from '../helpers/v3';

/*
 * Coupons (代金券). WeChat's 支付结果通知 page (https://pay.weixin.qq.com/doc/v2/merchant/4011937248, found
 * with `search`) lists, beside total_fee: cash_fee (现金支付金额, what the buyer paid), coupon_fee (总代金券
 * 金额), coupon_count, and per coupon coupon_type_$n (CASH 充值代金券 / NO_CASH 免充值代金券), coupon_id_$n and
 * coupon_fee_$n, numbered from 0; settlement_total_fee (应结订单金额 = 订单金额 - 免充值代金券金额) only when
 * a NO_CASH coupon was used. 查询订单 answers the same fields. Merchants post real ones in the WeChat
 * community ("total_fee: '32900', cash_fee: '32400', coupon_count: '1', coupon_fee: '500', coupon_fee_0:
 * '500', coupon_id_0: '28232857918'", developers.weixin.qq.com/community/pay/doc/00028af7dc43a82f290d5848151c00).
 * The page's 特别提醒 says the merchant checks 订单金额 (total_fee) against its own: the coupon does not
 * change it. API v3: amount.payer_total (用户支付金额) below amount.total, and promotion_detail entries
 * {coupon_id, name, scope GLOBAL|SINGLE, type CASH|NOCASH, amount, stock_id, wechatpay_contribute,
 * merchant_contribute, other_contribute} (the v3 支付通知 / 查询订单 pages).
 */

const native = (notifyUrl: string, totalFee = 1000) => ({
  body: '沙箱测试商品', out_trade_no: outTradeNo('CP'), total_fee: String(totalFee), spbill_create_ip: '127.0.0.1',
  notify_url: notifyUrl, trade_type: 'NATIVE', product_id: 'sku-1', time_expire: formatWxTime(Date.now() + 10 * 60_000),
});

describe('the sandbox pays with a coupon (raw HTTP)', () => {
  let app: AppServer;
  let rx: Awaited<ReturnType<typeof notifyReceiver>>;
  beforeAll(async () => {
    app = await startApp();
    rx = await notifyReceiver(() => ({ status: 200, body: SUCCESS_REPLY }));
  });
  afterAll(async () => {
    await rx?.close();
    await app?.stop();
  });

  const notifyFor = (otn: string) =>
    waitFor(async () => rx.received.map((r) => parseXml(r.body)).find((f) => f.out_trade_no === otn), 15_000, `the notify of ${otn}`);

  it('CASH coupon: notify and orderquery carry cash_fee < total_fee and the coupon fields, signed; no settlement_total_fee', async () => {
    const f = native(rx.url);
    const placed = await wxPost(app.baseUrl, 'unifiedorder', f);
    const paid = await sandboxPay(app.baseUrl, { code_url: placed.fields.code_url, coupon_fee: 300 });
    expect(paid.status).toBe(200);
    const n = await notifyFor(f.out_trade_no);
    expect(verify(n, SBX.apiKey, 'MD5')).toBe(true);
    expect(n).toMatchObject({ total_fee: '1000', cash_fee: '700', coupon_fee: '300', coupon_count: '1', coupon_type_0: 'CASH', coupon_fee_0: '300' });
    expect(n.coupon_id_0).toMatch(/^\d{11}$/);
    expect(n.settlement_total_fee).toBeUndefined();
    const q = await wxPost(app.baseUrl, 'orderquery', { out_trade_no: f.out_trade_no });
    expect(verify(q.fields, SBX.apiKey, 'MD5')).toBe(true);
    expect(q.fields).toMatchObject({ trade_state: 'SUCCESS', total_fee: '1000', cash_fee: '700', coupon_fee: '300', coupon_count: '1', coupon_type_0: 'CASH', coupon_id_0: n.coupon_id_0, coupon_fee_0: '300' });
  });

  it('NO_CASH coupon (免充值券): settlement_total_fee is total_fee less the coupon', async () => {
    const f = native(rx.url, 500);
    const placed = await wxPost(app.baseUrl, 'unifiedorder', f);
    expect((await sandboxPay(app.baseUrl, { code_url: placed.fields.code_url, coupon_fee: 120, coupon_type: 'NO_CASH' })).status).toBe(200);
    const n = await notifyFor(f.out_trade_no);
    expect(n).toMatchObject({ total_fee: '500', cash_fee: '380', settlement_total_fee: '380', coupon_fee: '120', coupon_type_0: 'NO_CASH', coupon_fee_0: '120' });
  });

  it('without a coupon nothing changes: cash_fee equals total_fee and no coupon field is sent', async () => {
    const f = native(rx.url, 200);
    const placed = await wxPost(app.baseUrl, 'unifiedorder', f);
    await sandboxPay(app.baseUrl, { code_url: placed.fields.code_url });
    const n = await notifyFor(f.out_trade_no);
    expect(n).toMatchObject({ total_fee: '200', cash_fee: '200' });
    expect(Object.keys(n).filter((k) => k.startsWith('coupon') || k === 'settlement_total_fee')).toEqual([]);
  });

  it('a bad coupon is refused with a clear error and the order stays unpaid', async () => {
    const f = native(rx.url, 100);
    const placed = await wxPost(app.baseUrl, 'unifiedorder', f);
    const code_url = placed.fields.code_url;
    for (const [body, code] of [
      [{ code_url, coupon_fee: 100 }, 'COUPON_TOO_LARGE'],
      [{ code_url, coupon_fee: 150 }, 'COUPON_TOO_LARGE'],
      [{ code_url, coupon_fee: 0 }, 'BAD_REQUEST'],
      [{ code_url, coupon_fee: 2.5 }, 'BAD_REQUEST'],
      [{ code_url, coupon_fee: 'ten' }, 'BAD_REQUEST'],
      [{ code_url, coupon_fee: 10, coupon_type: 'GIFT' }, 'BAD_REQUEST'],
      [{ code_url, coupon_type: 'CASH' }, 'BAD_REQUEST'],
    ] as const) {
      const r = await sandboxPay(app.baseUrl, body as Parameters<typeof sandboxPay>[1]);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.code).toBe(code);
    }
    expect((await sandboxOrder(app.baseUrl, f.out_trade_no))?.state).toBe('NOTPAY');
  });

  it('the scan page form takes a coupon too (POST /sandbox/scan/pay, coupon_fee and coupon_type)', async () => {
    const f = native(rx.url, 800);
    const placed = await wxPost(app.baseUrl, 'unifiedorder', f);
    const page = await (await fetch(`${app.baseUrl}/sandbox/scan?code_url=${encodeURIComponent(placed.fields.code_url)}`)).text();
    expect(page).toContain('data-testid="sandbox-scan-coupon-fee"');
    const form = new URLSearchParams({ code_url: placed.fields.code_url, result: 'SUCCESS', coupon_fee: '50', coupon_type: 'CASH' });
    const r = await fetch(`${app.baseUrl}/sandbox/scan/pay`, { method: 'POST', body: form, redirect: 'manual' });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toContain('done=SUCCESS');
    expect(await notifyFor(f.out_trade_no)).toMatchObject({ total_fee: '800', cash_fee: '750', coupon_fee: '50' });
  });

  it('API v3: the query shows amount.payer_total < amount.total and the coupon in promotion_detail', async () => {
    const v3 = await sandboxV3Client(app.baseUrl);
    const otn = outTradeNo('CP3');
    const { code_url } = await v3.native({
      description: '测试商品', out_trade_no: otn, amount: { total: 990 }, notify_url: rx.url,
      time_expire: formatRfc3339Cst(Date.now() + 10 * 60_000), scene_info: { payer_client_ip: '127.0.0.1' },
    });
    expect((await sandboxPay(app.baseUrl, { code_url, coupon_fee: 90, coupon_type: 'NO_CASH' })).status).toBe(200);
    const t = (await v3.queryByOutTradeNo(otn)) as unknown as Record<string, any>;
    expect(t.amount).toMatchObject({ total: 990, payer_total: 900, currency: 'CNY' });
    expect(t.promotion_detail).toEqual([expect.objectContaining({ scope: 'GLOBAL', type: 'NOCASH', amount: 90, merchant_contribute: 90, wechatpay_contribute: 0 })]);
  });
});

describe.each(VERSIONS)('the app applies a coupon payment (%s) and shows both amounts to the merchant', (version) => {
  let app: AppServer;
  let h: DbHandle;
  let merchant: string;
  const SECRET = 'coupon-test-session-secret-0123456789abcd';
  beforeAll(async () => {
    app = await startApp({ env: { RECONCILE_INTERVAL_MS: '0', WECHATPAY_API_VERSION: version, MERCHANT_PASSWORD: 'correct horse battery', SESSION_SECRET: SECRET } });
    h = openDb(app.databaseUrl);
    const login = await fetch(`${app.baseUrl}/api/merchant/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'correct horse battery' }) });
    const c = login.headers.getSetCookie().find((s) => s.startsWith('wxcheckout_session='));
    if (!c) throw new Error(`merchant login failed: ${login.status}`);
    merchant = c.split(';')[0];
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });

  it('the amount check is on the total: the order is paid, the attempt keeps cash_fen, and the detail JSON and page say "buyer paid, coupon"', async () => {
    const a = await placeSandboxAttempt(app, h.db, { amountFen: 1200, protocol: version });
    expect((await sandboxPay(app.baseUrl, { code_url: a.codeUrl!, coupon_fee: 200 })).status).toBe(200);
    await waitFor(async () => (await h.db.selectFrom('orders').select('status').where('id', '=', a.orderId).executeTakeFirstOrThrow()).status === 'paid', 20_000, 'the order paid');
    const attempt = await h.db.selectFrom('payment_attempts').select(['status', 'cash_fen']).where('out_trade_no', '=', a.outTradeNo).executeTakeFirstOrThrow();
    expect(attempt).toEqual({ status: 'paid', cash_fen: 1000 });
    const d = await (await fetch(`${app.baseUrl}/api/merchant/orders/${a.orderId}`, { headers: { cookie: merchant } })).json();
    expect(d.order).toMatchObject({ amountFen: 1200, buyerPaidFen: 1000, couponFen: 200, status: 'paid' });
    expect(d.attempts[0]).toMatchObject({ outTradeNo: a.outTradeNo, amountFen: 1200, cashFen: 1000 });
    // React separates text parts with <!-- --> comments in server HTML.
    const html = (await (await fetch(`${app.baseUrl}/merchant/orders/${a.orderId}`, { headers: { cookie: merchant, 'accept-language': 'en' } })).text()).replaceAll('<!-- -->', '');
    expect(html).toMatch(/data-testid="order-coupon"[^>]*>buyer paid ¥10\.00, coupon ¥2\.00</);
  });

  it('a payment without a coupon shows no coupon line', async () => {
    const a = await placeSandboxAttempt(app, h.db, { amountFen: 300, protocol: version });
    await sandboxPay(app.baseUrl, { code_url: a.codeUrl! });
    await waitFor(async () => (await h.db.selectFrom('orders').select('status').where('id', '=', a.orderId).executeTakeFirstOrThrow()).status === 'paid', 20_000, 'the order paid');
    const d = await (await fetch(`${app.baseUrl}/api/merchant/orders/${a.orderId}`, { headers: { cookie: merchant } })).json();
    expect(d.order).toMatchObject({ buyerPaidFen: 300, couponFen: 0 });
    const html = await (await fetch(`${app.baseUrl}/merchant/orders/${a.orderId}`, { headers: { cookie: merchant } })).text();
    expect(html).not.toContain('data-testid="order-coupon"');
  });

  it('a signed v2 notify whose cash_fee exceeds total_fee is refused (FAIL, CASH_FEE_INVALID) and changes nothing', async () => {
    const a = await placeSandboxAttempt(app, h.db, { amountFen: 100 });
    const fields: Record<string, string> = {
      return_code: 'SUCCESS', appid: SBX.appid, mch_id: SBX.mchId, nonce_str: nonceStr(), result_code: 'SUCCESS', openid: 'oX', is_subscribe: 'N',
      trade_type: 'NATIVE', bank_type: 'OTHERS', total_fee: '100', fee_type: 'CNY', cash_fee: '150', transaction_id: '4200000000202611240000000001',
      out_trade_no: a.outTradeNo, time_end: formatWxTime(Date.now()),
    };
    fields.sign = sign(fields, SBX.apiKey, 'MD5');
    const r = await fetch(`${app.baseUrl}/api/wechatpay/notify`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: buildXml(fields) });
    expect(parseXml(await r.text()).return_code).toBe('FAIL');
    expect((await h.db.selectFrom('orders').select('status').where('id', '=', a.orderId).executeTakeFirstOrThrow()).status).toBe('pending');
    const ev = await h.db.selectFrom('payment_events').select(['outcome', 'detail']).where('out_trade_no', '=', a.outTradeNo).execute();
    expect(ev).toEqual([expect.objectContaining({ outcome: 'rejected', detail: expect.stringContaining('CASH_FEE_INVALID') })]);
  });
});
