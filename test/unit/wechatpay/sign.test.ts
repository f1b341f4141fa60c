import { describe, expect, it } from 'vitest';
import { nonceStr, safeEqual, sign, signString, verify } from '../../../lib/wechatpay/sign';

// docs/wechatpay-v2.md §1.
const KEY = '192006250b4c09247ec02edce69f6a2d';
const DOC = { appid: 'wxd930ea5d5a258f4f', mch_id: '10000100', device_info: '1000', body: 'test', nonce_str: 'ibuaiVcKdpRxkhJA' };

describe('v2 signature vectors', () => {
  it('builds stringA sorted by name, raw values', () => {
    expect(signString(DOC)).toBe('appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA');
  });
  it('official example: MD5 and HMAC-SHA256', () => {
    expect(sign(DOC, KEY, 'MD5')).toBe('9A0A8659F005D6984697E2CA0A9CF3B7');
    expect(sign(DOC, KEY)).toBe('9A0A8659F005D6984697E2CA0A9CF3B7');
    expect(sign(DOC, KEY, 'HMAC-SHA256')).toBe('6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6');
  });
  it('wechatpy vector {test1, test2}', () => {
    expect(sign({ test1: 'test1', test2: 'test2' }, KEY, 'MD5')).toBe('1E3A8D73B5A4AEE787C0F68B5DAB8520');
    expect(sign({ test1: 'test1', test2: 'test2' }, KEY, 'HMAC-SHA256')).toBe('EDAC6D70D2FDF5A2382F8204FC96A1918017E46ACC5297F565ED1A7610ACF659');
  });
  it('drops sign and empty values but signs sign_type; order of insertion does not matter', () => {
    const shuffled = { nonce_str: DOC.nonce_str, sign: 'X', empty: '', undef: undefined, body: 'test', mch_id: '10000100', device_info: '1000', appid: DOC.appid };
    expect(sign(shuffled, KEY, 'MD5')).toBe('9A0A8659F005D6984697E2CA0A9CF3B7');
    expect(signString({ ...DOC, sign_type: 'MD5' })).toContain('&sign_type=MD5');
    expect(sign({ ...DOC, sign_type: 'MD5' }, KEY, 'MD5')).not.toBe('9A0A8659F005D6984697E2CA0A9CF3B7');
  });
  it('sorts case-sensitively in ASCII order (upper case before lower case)', () => {
    expect(signString({ b: '1', B: '2', a_b: '3', aB: '4' })).toBe('B=2&aB=4&a_b=3&b=1');
  });
  it('does not URL-encode values', () => {
    expect(signString({ notify_url: 'https://x.test/a?b=c&d', body: '商品 A' })).toBe('body=商品 A&notify_url=https://x.test/a?b=c&d');
  });
});

describe('verify', () => {
  const md5 = { ...DOC, sign: '9A0A8659F005D6984697E2CA0A9CF3B7' };
  it('accepts a correct sign, including lower-case hex', () => {
    expect(verify(md5, KEY)).toBe(true);
    expect(verify({ ...md5, sign: md5.sign.toLowerCase() }, KEY)).toBe(true);
  });
  it('rejects a tampered field, an extra field, a missing sign, a wrong key', () => {
    expect(verify({ ...md5, body: 'test2' }, KEY)).toBe(false);
    expect(verify({ ...md5, extra: 'x' }, KEY)).toBe(false);
    expect(verify({ ...DOC }, KEY)).toBe(false);
    expect(verify(md5, KEY.replace('1', '2'))).toBe(false);
  });
  it('verifies unknown extra fields that were signed', () => {
    const f = { ...DOC, new_field_2027: 'v' };
    expect(verify({ ...f, sign: sign(f, KEY) }, KEY)).toBe(true);
  });
  it('takes sign_type from the payload, else the configured fallback', () => {
    const hmacNoType = { ...DOC, sign: '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6' };
    expect(verify(hmacNoType, KEY, 'HMAC-SHA256')).toBe(true);
    expect(verify(hmacNoType, KEY, 'MD5')).toBe(false);
    expect(verify(hmacNoType, KEY)).toBe(false);
    const typed = { ...DOC, sign_type: 'HMAC-SHA256' };
    const s = sign(typed, KEY, 'HMAC-SHA256');
    expect(verify({ ...typed, sign: s }, KEY, 'MD5')).toBe(true); // payload's type wins over the fallback
    const typedMd5 = { ...DOC, sign_type: 'MD5' };
    expect(verify({ ...typedMd5, sign: sign(typedMd5, KEY, 'MD5') }, KEY, 'HMAC-SHA256')).toBe(true);
  });
  it('rejects an unknown sign_type', () => {
    const f = { ...DOC, sign_type: 'SHA1' };
    expect(verify({ ...f, sign: sign(f, KEY, 'MD5') }, KEY)).toBe(false);
  });
});

describe('safeEqual and nonceStr', () => {
  it('compares exactly', () => {
    expect(safeEqual('ABC', 'ABC')).toBe(true);
    expect(safeEqual('ABC', 'ABD')).toBe(false);
    expect(safeEqual('ABC', 'ABCD')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });
  it('makes 32 alphanumerics, different each time', () => {
    const a = nonceStr();
    expect(a).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(nonceStr()).not.toBe(a);
    expect(nonceStr(16)).toHaveLength(16);
  });
});
