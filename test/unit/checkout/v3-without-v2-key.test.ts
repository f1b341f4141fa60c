import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '@/lib/wechatpay/sign';
import { buildXml } from '@/lib/wechatpay/xml';
import { type CheckoutUnderTest, checkoutAgainst } from '../../helpers/checkout-unit';

/**
 * Merchants registered since late 2024 get API v3 credentials and may have no v2 key at all. Live v3
 * runs without WECHATPAY_API_KEY; then no v2 XML notify can be verified, so each is refused unverified
 * before anything is read, and nothing is ever signed or checked with an empty key.
 */
const fixtures = path.resolve(__dirname, '../../fixtures/wechatpay-v3');
const V3_LIVE = {
  WECHAT_MODE: 'live', PUBLIC_BASE_URL: 'https://pay.example.com', WECHAT_APPID: 'wx2421b1c4370ec43b', WECHAT_APP_SECRET: 'secret',
  WECHATPAY_MCH_ID: '1900000109', MERCHANT_PASSWORD: 'correct horse battery', SESSION_SECRET: 's'.repeat(32),
  WECHATPAY_API_VERSION: 'v3', WECHATPAY_APIV3_KEY: '0123456789abcdef0123456789ABCDEF', WECHATPAY_CERT_SERIAL: '5157F09EFDC096DE15EBE81A47057A7232F3E5E3',
  WECHATPAY_PRIVATE_KEY: path.join(fixtures, 'merchant_private_key.pem'), WECHATPAY_PUBLIC_KEY: path.join(fixtures, 'wechatpay_public_key.pem'),
  WECHATPAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_0110000100SANDBOX00000000000001',
};

describe('API v3 without a v2 key', () => {
  let app: CheckoutUnderTest;
  beforeAll(async () => {
    app = await checkoutAgainst(null, V3_LIVE);
  });
  afterAll(async () => {
    await app?.close();
    for (const k of Object.keys(V3_LIVE)) delete process.env[k];
  });

  it('starts in live mode; v2 XML notifies are refused unverified, even one signed with an empty key', async () => {
    const { parseConfig } = await import('@/lib/config');
    const r = parseConfig(process.env);
    expect(r.ok && r.config.apiKey).toBe('');
    const v2 = await import('@/lib/config');
    expect(v2.parseConfig({ ...V3_LIVE, WECHATPAY_API_VERSION: 'v2' }).ok).toBe(false); // v2 still needs it

    const gateway = await import('@/lib/checkout/gateway');
    const fields: Record<string, string> = {
      return_code: 'SUCCESS', result_code: 'SUCCESS', appid: V3_LIVE.WECHAT_APPID, mch_id: V3_LIVE.WECHATPAY_MCH_ID, nonce_str: 'n',
      out_trade_no: 'P1', transaction_id: '4200000000000000000000000001', total_fee: '1', openid: 'o', trade_type: 'NATIVE', time_end: '20261124120000',
    };
    const forged = buildXml({ ...fields, sign: sign(fields, '', 'MD5') });
    expect(gateway.readPaymentNotify(forged)).toMatchObject({ ok: false, code: 'V2_NOT_CONFIGURED', verified: false });
    expect(gateway.readRefundNotify('<xml><return_code>SUCCESS</return_code><req_info>x</req_info></xml>')).toMatchObject({ ok: false, code: 'V2_NOT_CONFIGURED', verified: false });
    expect(() => gateway.jsapiPayParams('wx_prepay', 'MD5')).toThrow(/WECHATPAY_API_KEY is not set/);
  });
});
