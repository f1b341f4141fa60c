import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CombinedKeys, responseMessage, rsaSign, SIGNTEST_PREFIX, StaticKeys, verifyWechatpaySignature } from '../../../../lib/wechatpay/v3';

const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const a = pair();
const b = pair();
const now = 1_780_000_000_000;
const ts = String(now / 1000);
const body = '{"ok":1}';
const signed = (key = a.privateKey, t = ts, serial = 'PUB_KEY_ID_A') => ({ timestamp: t, nonce: 'N1', serial, signature: rsaSign(responseMessage(t, 'N1', body), key) });

describe('verifyWechatpaySignature', () => {
  const keys = new StaticKeys([['PUB_KEY_ID_A', a.publicKey]]);

  it('accepts a signature by the key of Wechatpay-Serial within 5 minutes either way', async () => {
    await expect(verifyWechatpaySignature(signed(), body, keys, { now })).resolves.toBe('PUB_KEY_ID_A');
    await expect(verifyWechatpaySignature(signed(a.privateKey, String(now / 1000 - 299)), body, keys, { now })).resolves.toBeDefined();
    await expect(verifyWechatpaySignature(signed(a.privateKey, String(now / 1000 + 299)), body, keys, { now })).resolves.toBeDefined();
  });

  it('refuses a stale or future timestamp (replay), even when the signature holds', async () => {
    await expect(verifyWechatpaySignature(signed(a.privateKey, String(now / 1000 - 301)), body, keys, { now })).rejects.toMatchObject({ code: 'STALE_TIMESTAMP' });
    await expect(verifyWechatpaySignature(signed(a.privateKey, String(now / 1000 + 301)), body, keys, { now })).rejects.toMatchObject({ code: 'STALE_TIMESTAMP' });
    await expect(verifyWechatpaySignature(signed(a.privateKey, 'abc'), body, keys, { now })).rejects.toMatchObject({ code: 'STALE_TIMESTAMP' });
  });

  it('refuses an unknown serial, a signature by another key, missing headers and the SIGNTEST probe', async () => {
    await expect(verifyWechatpaySignature(signed(a.privateKey, ts, 'PUB_KEY_ID_B'), body, keys, { now })).rejects.toMatchObject({ code: 'UNKNOWN_SERIAL' });
    await expect(verifyWechatpaySignature(signed(b.privateKey), body, keys, { now })).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    await expect(verifyWechatpaySignature({ ...signed(), nonce: undefined }, body, keys, { now })).rejects.toMatchObject({ code: 'MISSING_SIGNATURE' });
    // WeChat sends probe traffic whose Wechatpay-Signature starts with WECHATPAY/SIGNTEST/ and expects
    // verification to fail (docs/wechatpay-v3.md §2; WeChat's page on verifying signatures,
    // https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html).
    await expect(verifyWechatpaySignature({ ...signed(), signature: `${SIGNTEST_PREFIX}${signed().signature}` }, body, keys, { now })).rejects.toMatchObject({ code: 'SIGNTEST_PROBE' });
  });

  it('during a switch both keys verify, each under its own serial only', async () => {
    const both = new CombinedKeys([keys, new StaticKeys([['5157F09EFDC096DE15EBE81A47057A7232F3E5E3', b.publicKey]])]);
    await expect(verifyWechatpaySignature(signed(), body, both, { now })).resolves.toBe('PUB_KEY_ID_A');
    await expect(verifyWechatpaySignature(signed(b.privateKey, ts, '5157F09EFDC096DE15EBE81A47057A7232F3E5E3'), body, both, { now })).resolves.toBeDefined();
    await expect(verifyWechatpaySignature(signed(b.privateKey, ts, 'PUB_KEY_ID_A'), body, both, { now })).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
  });
});
