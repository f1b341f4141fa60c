import type { KeyObject } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadPrivateKey } from '@/lib/wechatpay/v3';
import { attemptRow, type CheckoutUnderTest, checkoutAgainst, orderRow } from '../../helpers/checkout-unit';
import { captureLogs, type LogCapture } from '../../helpers/log-capture';
import { insertOrder, type TestAttempt } from '../../helpers/orders';
import { sandboxSecrets } from '../../helpers/v3';
import { type ScriptedV3Answer, type SeenV3, startScriptedV3 } from '../../helpers/v3-wechat';

/**
 * The claimed status poll over API v3 (lib/checkout/payments confirmPendingOrder, gateway queryPaymentV3):
 * one query by out_trade_no per order per 3 s window at WeChat, so the claimed query is sent once, with
 * none of the client's retries of a 5xx, SYSTEM_ERROR or dropped connection. WeChat recommends polling
 * the query with a 3-5 s interval ("通常建议查询间隔为3-5秒", 合理的查单逻辑,
 * https://pay.weixin.qq.com/doc/global/v2/zh/4013637903); the v3 query is
 * GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid= (https://pay.weixin.qq.com/doc/v3/merchant/4013070356).
 * The merchant's sync and the close keep their retries. WeChat here is a scripted v3 host over real HTTP,
 * signing as the sandbox's WeChat Pay key (the app runs in sandbox mode, WECHATPAY_API_VERSION=v3).
 */
describe('the claimed status poll over API v3', () => {
  let app: CheckoutUnderTest;
  let payments: typeof import('@/lib/checkout/payments');
  let wx: Awaited<ReturnType<typeof startScriptedV3>>;
  let logs: LogCapture;
  /** Filled once the app has generated its sandbox keys: answers are signed with WeChat Pay's key. */
  const signer = {} as { key: KeyObject; serial: string };
  let script: (r: SeenV3) => ScriptedV3Answer = () => ({ status: 404, body: '{"code":"NOT_FOUND","message":"nothing scripted"}' });

  beforeAll(async () => {
    wx = await startScriptedV3(signer, (r) => script(r));
    app = await checkoutAgainst(null, { WECHATPAY_API_VERSION: 'v3', SANDBOX_MCH_BASE_URL: wx.url });
    const keys = sandboxSecrets({ databaseUrl: process.env.DATABASE_URL! });
    signer.key = loadPrivateKey(keys.wechatpay_private_key_pem);
    signer.serial = keys.wechatpay_public_key_id;
    payments = await import('@/lib/checkout/payments');
  });
  afterAll(async () => {
    await app?.close();
    await wx?.close();
    delete process.env.WECHATPAY_API_VERSION;
  });
  beforeEach(() => {
    wx.seen.length = 0;
    logs = captureLogs();
  });
  afterEach(() => logs.restore());

  const queries = (a: TestAttempt) => wx.seen.filter((r) => r.method === 'GET' && r.url.startsWith(`/v3/pay/transactions/out-trade-no/${a.outTradeNo}?`));
  const pending = () => insertOrder(app.db, { amountFen: 100, codeUrl: 'weixin://wxpay/bizpayurl?pr=UnitV3', protocol: 'v3' });
  const transaction = (a: TestAttempt, state: string) => JSON.stringify({
    appid: 'wx', mchid: '10000100', out_trade_no: a.outTradeNo, trade_state: state, trade_state_desc: state,
    ...(state === 'SUCCESS' ? { transaction_id: '4200000000000000000000000777', success_time: '2026-03-01T12:00:00+08:00', payer: { openid: 'oV3' } } : {}),
    amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
  });

  it.each<[string, ScriptedV3Answer, string]>([
    ['HTTP 500 SYSTEM_ERROR', { status: 500, body: '{"code":"SYSTEM_ERROR","message":"系统错误"}' }, 'SYSTEM_ERROR'],
    ['a dropped connection', { status: 0, drop: true }, 'NETWORK'],
  ])('a query failing with %s is sent once; the order stays pending, the failure is logged', async (_what, failure, code) => {
    const a = await pending();
    let n = 0;
    script = () => (++n === 1 ? failure : { status: 200, body: transaction(a, 'NOTPAY') });
    expect(await payments.confirmPendingOrder(a.orderId)).toBe('pending');
    expect(queries(a)).toHaveLength(1);
    expect((await attemptRow(app.db, a.outTradeNo)).status).toBe('open');
    expect((await orderRow(app.db, a.orderId)).last_query_at).not.toBeNull();
    expect(logs.lines.filter((l) => l.event === 'order_poll').map((l) => [l.level, (l.err as { code?: string }).code])).toEqual([['warn', code]]);
  });

  it('an answered claimed query applies as before: SUCCESS pays the order with one signed request', async () => {
    const a = await pending();
    script = () => ({ status: 200, body: transaction(a, 'SUCCESS') });
    expect(await payments.confirmPendingOrder(a.orderId)).toBe('paid');
    expect(queries(a)).toHaveLength(1);
    expect((await orderRow(app.db, a.orderId)).transaction_id).toBe('4200000000000000000000000777');
  });

  it('a claimed query past its send window is not sent at all; the attempt is untouched', async () => {
    const a = await pending();
    script = () => ({ status: 200, body: transaction(a, 'SUCCESS') });
    await expect(payments.confirmAttempt(a.outTradeNo, 'query', { once: true, sendBy: Date.now() - 1 })).rejects.toMatchObject({ code: 'QUERY_NOT_SENT' });
    expect(queries(a)).toEqual([]);
    expect((await attemptRow(app.db, a.outTradeNo)).status).toBe('open');
  });

  it('the merchant\'s sync and the close keep the client\'s retries', async () => {
    const a = await pending();
    let n = 0;
    script = (r) => (++n === 1 ? { status: 500, body: '{"code":"SYSTEM_ERROR","message":"系统错误"}' } : r.method === 'GET' ? { status: 200, body: transaction(a, 'NOTPAY') } : { status: 500, body: '{"code":"SYSTEM_ERROR","message":"系统错误"}' });
    expect(await payments.syncOrder(a.orderId, 'merchant')).toEqual({ ok: true, notes: [`${a.outTradeNo}: NOTPAY`] });
    expect(queries(a)).toHaveLength(2);

    await expect(payments.closeAttempt(a.outTradeNo)).rejects.toMatchObject({ code: 'SYSTEM_ERROR' });
    expect(wx.seen.filter((r) => r.method === 'POST' && r.url === `/v3/pay/transactions/out-trade-no/${a.outTradeNo}/close`)).toHaveLength(3);
  });
});
