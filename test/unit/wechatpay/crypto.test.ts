import { describe, expect, it } from 'vitest';
import { decryptReqInfo, encryptReqInfo, reqInfoKey } from '../../../lib/wechatpay/crypto';
import { WechatPayDecryptError } from '../../../lib/wechatpay/errors';

// docs/wechatpay-v2.md §7.
const KEY = '192006250b4c09247ec02edce69f6a2d';
const REQ_INFO = 'WBzGpzQuNpcFxIlFjUUD9BZv+lpBMzd2SHiKCkwfALWid5G8ZvfOussfMIHLbKJmcnxPKdb1ZJEqTAp8ysQv+xa1fj+Eorgndx3fNxf3KAYa3LPgsjvZgxaeYyrhV05Kbjkj6ywg27cEyTTaPZFYNg==';
const PLAIN = '<root><out_refund_no><![CDATA[R1]]></out_refund_no><refund_status><![CDATA[SUCCESS]]></refund_status></root>';

describe('refund notify req_info', () => {
  it('key is the md5 hex text of the API key', () => {
    expect(reqInfoKey(KEY).toString('ascii')).toBe('d96eb16afdd491fa1e705096edbc2205');
    expect(reqInfoKey(KEY)).toHaveLength(32);
  });
  it('decrypts the documented vector', () => {
    expect(decryptReqInfo(REQ_INFO, KEY)).toBe(PLAIN);
  });
  it('encrypts to the documented vector (ECB is deterministic) and round trips unicode', () => {
    expect(encryptReqInfo(PLAIN, KEY)).toBe(REQ_INFO);
    const zh = '<root><refund_recv_accout>支付用户的零钱</refund_recv_accout></root>';
    expect(decryptReqInfo(encryptReqInfo(zh, KEY), KEY)).toBe(zh);
  });
  it('fails with WechatPayDecryptError on the raw key, garbage and truncation', () => {
    // Using the API key itself instead of its md5 is the classic mistake: it is 32 bytes too.
    const wrong = Buffer.from(KEY).toString('ascii');
    expect(() => decryptReqInfo(REQ_INFO, 'x'.repeat(32))).toThrow(WechatPayDecryptError);
    expect(() => decryptReqInfo(encryptReqInfo(PLAIN, 'y'.repeat(32)), wrong)).toThrow(WechatPayDecryptError);
    expect(() => decryptReqInfo('not base64 !!', KEY)).toThrow(WechatPayDecryptError);
    expect(() => decryptReqInfo(REQ_INFO.slice(0, 40), KEY)).toThrow(WechatPayDecryptError);
    expect(() => decryptReqInfo('AAAA', KEY)).toThrow(expect.objectContaining({ code: 'DECRYPT_FAILED' }));
  });
});
