import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_API_KEY, SANDBOX_APPID, SANDBOX_MCH_ID } from '@/lib/config';
import { type DbHandle, openDb } from '@/lib/db';
import type { Database } from '@/lib/db/schema';
import { WechatPayClient } from '@/lib/wechatpay/client';
import { sign } from '@/lib/wechatpay/sign';
import { formatWxTime } from '@/lib/wechatpay/time';
import { actAsInstanceOf, INSTANCE_ENV } from '../helpers/in-process';
import { placeSandboxAttempt, sandboxPay, waitFor } from '../helpers/orders';
import { outTradeNo, SBX, sandboxOrder, wxPost } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';

/*
 * closeorder in a trade's first 5 minutes. WeChat's closeorder page: "注意：订单生成后不能马上调用关单接口，
 * 最短调用时间间隔为5分钟" (https://pay.weixin.qq.com/doc/v2/merchant/4011987803, found with `search`;
 * the same note on the mini-program page 9_3 and on wechatpay.im/openapi/v2/pay/closeorder). Its error
 * list (ORDERPAID, SYSTEMERROR, ORDERCLOSED, SIGNERROR, REQUIRE_POST_METHOD, XML_FORMAT_ERROR) has no code
 * for it, so what WeChat answers is UNVERIFIED; the sandbox answers a signed SYSTEMERROR quoting the
 * sentence (the documented remedy of SYSTEMERROR is to call again). The app never takes that as closed.
 */
const TOO_EARLY = '订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟';

describe('closeorder refuses a trade younger than 5 minutes', () => {
  let app: AppServer;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => app?.stop());

  const native = () => ({
    body: '沙箱测试商品', out_trade_no: outTradeNo('CO'), total_fee: '1', spbill_create_ip: '127.0.0.1',
    notify_url: 'http://127.0.0.1:9/notify', trade_type: 'NATIVE', product_id: 'sku-1', time_expire: formatWxTime(Date.now() + 10 * 60_000),
  });

  it('raw HTTP: a fresh unpaid trade is refused (signed SYSTEMERROR with the page\'s sentence) and stays payable; a paid one is ORDERPAID at once', async () => {
    const f = native();
    const placed = await wxPost(app.baseUrl, 'unifiedorder', f);
    const r = await wxPost(app.baseUrl, 'closeorder', { out_trade_no: f.out_trade_no });
    expect(r.fields).toMatchObject({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'SYSTEMERROR', err_code_des: TOO_EARLY });
    expect(r.fields.sign).toBe(sign(r.fields, SBX.apiKey, 'MD5'));
    expect((await sandboxOrder(app.baseUrl, f.out_trade_no))?.state).toBe('NOTPAY');
    await sandboxPay(app.baseUrl, placed.fields.code_url);
    expect((await wxPost(app.baseUrl, 'closeorder', { out_trade_no: f.out_trade_no })).fields).toMatchObject({ result_code: 'FAIL', err_code: 'ORDERPAID' });
  });

  it('client: the refusal is a WechatPayApiError SYSTEMERROR carrying the sentence (resent like any SYSTEMERROR, never taken as closed)', async () => {
    const f = native();
    await wxPost(app.baseUrl, 'unifiedorder', f);
    const c = new WechatPayClient({ appId: SANDBOX_APPID, mchId: SANDBOX_MCH_ID, apiKey: SANDBOX_API_KEY, signType: 'MD5', baseUrl: `${app.baseUrl}/sandbox/mch`, retryDelayMs: 5 });
    const e = await c.closeOrder({ out_trade_no: f.out_trade_no }).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'WechatPayApiError', code: 'SYSTEMERROR', errCodeDes: TOO_EARLY });
  });
});

describe('the app closing young trades (SANDBOX_CLOSE_MIN_AGE_S=3: the same rule, 3 seconds instead of 5 minutes)', () => {
  let app: AppServer;
  let h: DbHandle;
  let db: Kysely<Database>;
  let payments: typeof import('@/lib/checkout/payments');
  let reconciler: typeof import('@/lib/checkout/reconciler');
  beforeAll(async () => {
    for (const k of [...INSTANCE_ENV, 'SANDBOX_MCH_BASE_URL']) delete process.env[k];
    app = await startApp({ env: { RECONCILE_INTERVAL_MS: '0', SANDBOX_CLOSE_MIN_AGE_S: '3' } });
    h = openDb(app.databaseUrl);
    db = h.db;
    actAsInstanceOf(app, h, { SANDBOX_MCH_BASE_URL: `${app.baseUrl}/sandbox/mch` });
    payments = await import('@/lib/checkout/payments');
    reconciler = await import('@/lib/checkout/reconciler');
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });
  const status = async (orderId: string) => (await db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirstOrThrow()).status;

  it('a merchant close is refused with when to try again; the order stays pending and payable nowhere else; closing again later works', async () => {
    const a = await placeSandboxAttempt(app, db, {});
    const r = await payments.closeUnpaidOrder(a.orderId);
    expect(r).toMatchObject({ ok: false, code: 'CLOSE_TOO_EARLY' });
    if (r.ok) return;
    expect(r.message).toMatch(/does not close a payment in its first 5 minutes .*can be closed after \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(UTC\+8\)/);
    expect(await status(a.orderId)).toBe('pending');
    expect((await sandboxOrder(app.baseUrl, a.outTradeNo))?.state).toBe('NOTPAY');
    const closed = await waitFor(async () => {
      const again = await payments.closeUnpaidOrder(a.orderId);
      return again.ok ? again : undefined;
    }, 15_000, 'the close to be accepted');
    expect(closed).toEqual({ ok: true, status: 'closed' });
    expect((await sandboxOrder(app.baseUrl, a.outTradeNo))?.state).toBe('CLOSED');
  });

  it('the reconciler leaves a young stray trade open (too_early) and closes it on a later sweep', async () => {
    const paid = await placeSandboxAttempt(app, db, {});
    await sandboxPay(app.baseUrl, paid.codeUrl!);
    await waitFor(async () => (await status(paid.orderId)) === 'paid', 15_000, 'the payment');
    // The QR the buyer did not pay, placed just now: the order is paid, so the reconciler closes it.
    const other = await placeSandboxAttempt(app, db, { orderId: paid.orderId });
    const sweep = () => reconciler.reconcileOnce({ intervalMs: 1000, graceMs: 60_000, batch: 50 });
    const first = await sweep();
    expect(first, first.join('\n')).toContain(`stray ${other.outTradeNo}: too_early`);
    expect((await db.selectFrom('payment_attempts').select('status').where('out_trade_no', '=', other.outTradeNo).executeTakeFirstOrThrow()).status).toBe('open');
    await waitFor(async () => {
      await sweep();
      return (await sandboxOrder(app.baseUrl, other.outTradeNo))?.state === 'CLOSED';
    }, 15_000, 'the stray trade closed at WeChat');
    expect((await db.selectFrom('payment_attempts').select('status').where('out_trade_no', '=', other.outTradeNo).executeTakeFirstOrThrow()).status).toBe('closed');
  });
});
