import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { attemptRow, type CheckoutUnderTest, checkoutAgainst, eventsOf, orderRow, refundRow, seedPaidOrder } from '../../helpers/checkout-unit';
import { addAttempt } from '../../helpers/orders';

/**
 * A duplicate payment while refunds are blocked: live mode without WECHATPAY_CERT_P12. Its own file
 * because lib/config caches the configuration per process. Live mode talks to the real
 * api.mch.weixin.qq.com, so every way out (fetch, node:https) is stubbed to fail the test if reached:
 * applyPayment makes no network call, and a refund without the certificate must stop before one.
 */
describe('applyPayment: a duplicate payment in live mode without the merchant certificate', () => {
  let app: CheckoutUnderTest;
  let payments: typeof import('@/lib/checkout/payments');
  let refunds: typeof import('@/lib/checkout/refunds');
  const fetchSpy = vi.fn(async () => {
    throw new Error('the network was reached');
  });
  const httpsSpy = vi.spyOn(https, 'request').mockImplementation(() => {
    throw new Error('the network was reached (https)');
  });

  beforeAll(async () => {
    vi.stubGlobal('fetch', fetchSpy);
    app = await checkoutAgainst(null, {
      WECHAT_MODE: 'live', PUBLIC_BASE_URL: 'https://shop.example.com', WECHAT_APPID: 'wx1234567890abcdef', WECHAT_APP_SECRET: 's'.repeat(32),
      WECHATPAY_MCH_ID: '1900000109', WECHATPAY_API_KEY: 'k'.repeat(32), MERCHANT_PASSWORD: 'a-long-merchant-password', SESSION_SECRET: 'x'.repeat(40),
    });
    payments = await import('@/lib/checkout/payments');
    refunds = await import('@/lib/checkout/refunds');
    const { getConfig } = await import('@/lib/config');
    expect(getConfig()).toMatchObject({ mode: 'live', dbKind: 'sqlite', certP12Path: undefined });
  });
  afterAll(async () => {
    await app?.close();
    vi.unstubAllGlobals();
    httpsSpy.mockRestore();
  });

  it('refundsUnavailable names the missing certificate', () => {
    expect(refunds.refundsUnavailable()).toMatch(/^WECHATPAY_CERT_P12 is not set: live refunds need the merchant certificate apiclient_cert\.p12/);
  });

  it('flags the order, reserves the refund anyway, and the event says it is sent once fixed', async () => {
    const blocked = refunds.refundsUnavailable()!;
    const paid = await seedPaidOrder(app.db, { amountFen: 12800 });
    const second = await addAttempt(app.db, paid.orderId, { tradeType: 'JSAPI' });

    const r = await payments.applyPayment({ source: 'notify', outTradeNo: second.outTradeNo, transactionId: '4200000000000000000000000555', totalFee: 12800 });
    expect(r.outcome).toBe('duplicate_payment');
    const refund = r.outcome === 'duplicate_payment' ? r.refund : null;
    expect(refund).toMatchObject({ out_trade_no: second.outTradeNo, amount_fen: 12800, origin: 'duplicate', status: 'processing' });

    expect(await orderRow(app.db, paid.orderId)).toMatchObject({ status: 'paid', transaction_id: paid.transactionId, duplicate_paid: 1, refunded_fen: 0 });
    expect((await attemptRow(app.db, second.outTradeNo)).status).toBe('paid');
    const events = await eventsOf(app.db, paid.orderId);
    expect(events.map((e) => [e.source, e.outcome])).toEqual([['refund', 'applied'], ['notify', 'applied']]);
    expect(events[1].detail).toContain(`refund ${refund!.out_refund_no} of 12800 fen started automatically (sent once this is fixed: ${blocked})`);
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(httpsSpy).not.toHaveBeenCalled();
  });

  it('a merchant refund is refused up front with CERT_REQUIRED, reserving nothing', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 100 });
    const r = await refunds.requestRefund({ orderId: paid.orderId, amountFen: 100, reason: 'x', origin: 'merchant' });
    expect(r).toEqual({ ok: false, code: 'CERT_REQUIRED', message: refunds.refundsUnavailable() });
    expect(await app.db.selectFrom('refunds').select('out_refund_no').where('order_id', '=', paid.orderId).execute()).toEqual([]);
    expect(await eventsOf(app.db, paid.orderId)).toEqual([]);
  });

  it('submitting the reserved refund stops before the network and keeps it processing (retried once fixed)', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 100 });
    const second = await addAttempt(app.db, paid.orderId);
    const r = await payments.applyPayment({ source: 'query', outTradeNo: second.outTradeNo, transactionId: '4200000000000000000000000444', totalFee: 100 });
    const refund = r.outcome === 'duplicate_payment' ? r.refund! : null;
    const sent = await refunds.submitRefund(refund!);
    expect(sent.ok).toBe(true);
    const row = await refundRow(app.db, refund!.out_refund_no);
    expect(row.status).toBe('processing');
    expect(row.detail).toMatch(/^not confirmed yet \(CERT_REQUIRED: refund over https needs the merchant certificate.*\); will retry$/);
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(httpsSpy).not.toHaveBeenCalled();
  });
});
