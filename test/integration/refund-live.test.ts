import { describe, expect, it, vi } from 'vitest';

/** Live refunds need the merchant certificate; without it the refund is refused up front, saying what is missing. */
describe('refunds in live mode without WECHATPAY_CERT_P12', () => {
  it('answers CERT_REQUIRED naming the variable and the file, before touching WeChat or the database', async () => {
    Object.assign(process.env, {
      WECHAT_MODE: 'live', PUBLIC_BASE_URL: 'https://shop.example.com', WECHAT_APPID: 'wx1234567890abcdef', WECHAT_APP_SECRET: 's'.repeat(32),
      WECHATPAY_MCH_ID: '1900000109', WECHATPAY_API_KEY: 'k'.repeat(32), MERCHANT_PASSWORD: 'a-long-merchant-password', SESSION_SECRET: 'x'.repeat(40),
      // Nothing listens here: reaching the database would fail loudly rather than pass.
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    delete process.env.WECHATPAY_CERT_P12;
    vi.resetModules();
    const { requestRefund, refundsUnavailable } = await import('@/lib/checkout/refunds');
    const r = await requestRefund({ orderId: 'o_any', amountFen: 100, reason: 'x', origin: 'merchant' });
    expect(r).toMatchObject({ ok: false, code: 'CERT_REQUIRED' });
    expect(r.ok ? '' : r.message).toMatch(/^WECHATPAY_CERT_P12 is not set: .*apiclient_cert\.p12/);
    expect(refundsUnavailable()).toBe(r.ok ? null : r.message);
  });
});
