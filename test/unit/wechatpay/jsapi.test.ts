import { describe, expect, it } from 'vitest';
import { jsapiParams, verifyJsapiParams } from '../../../lib/wechatpay/jsapi';

// docs/wechatpay-v2.md §1, paySign vectors.
const KEY = '192006250b4c09247ec02edce69f6a2d';
const base = { appId: 'wx2421b1c4370ec43b', prepayId: 'u802345jgfjsdfgsdg888', apiKey: KEY, now: () => 1395712654_000, nonce: 'e61463f8efa94090b1f366cccfbbb444' };

describe('jsapiParams', () => {
  it('MD5 vector', () => {
    expect(jsapiParams({ ...base, signType: 'MD5' })).toEqual({
      appId: 'wx2421b1c4370ec43b',
      timeStamp: '1395712654',
      nonceStr: 'e61463f8efa94090b1f366cccfbbb444',
      package: 'prepay_id=u802345jgfjsdfgsdg888',
      signType: 'MD5',
      paySign: '0784A14C2CD35747364F62512E724FD8',
    });
  });
  it('HMAC-SHA256 vector', () => {
    const p = jsapiParams({ ...base, signType: 'HMAC-SHA256' });
    expect(p.signType).toBe('HMAC-SHA256');
    expect(p.paySign).toBe('09064E137ACF9AEAA1B73E43E70968EC55B3952D4BC0A6FCEBB6F86FB2912319');
  });
  it('timeStamp is whole seconds as text; nonce is random by default', () => {
    const p = jsapiParams({ appId: 'wxd930ea5d5a258f4f', prepayId: 'wx1', apiKey: KEY, signType: 'MD5', now: () => 1700000000999 });
    expect(p.timeStamp).toBe('1700000000');
    expect(p.nonceStr).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(verifyJsapiParams(p, KEY)).toBe(true);
  });
  it('refuses an empty prepay id', () => {
    expect(() => jsapiParams({ ...base, prepayId: '', signType: 'MD5' })).toThrow(/prepayId/);
  });
});

describe('verifyJsapiParams', () => {
  const p = jsapiParams({ ...base, signType: 'HMAC-SHA256' });
  it('round trips and rejects every tampering', () => {
    expect(verifyJsapiParams(p, KEY)).toBe(true);
    expect(verifyJsapiParams({ ...p, package: 'prepay_id=other' }, KEY)).toBe(false);
    expect(verifyJsapiParams({ ...p, signType: 'MD5' }, KEY)).toBe(false);
    expect(verifyJsapiParams({ ...p, timeStamp: '1395712655' }, KEY)).toBe(false);
    expect(verifyJsapiParams(p, KEY.replace('1', '0'))).toBe(false);
    expect(verifyJsapiParams({ ...p, paySign: undefined }, KEY)).toBe(false);
    expect(verifyJsapiParams({ ...p, signType: 'SHA1' as 'MD5' }, KEY)).toBe(false);
  });
  it('is case-sensitive about parameter names (timestamp is the JS-SDK spelling, not the bridge)', () => {
    const { timeStamp, ...rest } = p;
    expect(verifyJsapiParams({ ...rest, timestamp: timeStamp }, KEY)).toBe(false);
  });
});
