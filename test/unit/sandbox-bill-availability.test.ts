import { describe, expect, it } from 'vitest';
import { billAvailability } from '@/lib/sandbox/bill';

/*
 * When WeChat has a day's bill. The downloadbill page (https://pay.weixin.qq.com/doc/v2/merchant/4011985040,
 * found with `search`): "微信在次日9点启动生成前一天的对账单，建议商户10点后再获取" and "对账单接口只能下载三个月
 * 以内的账单". Times below are UTC; UTC+8 is 8 hours ahead.
 */
const at = (iso: string) => Date.parse(iso);

describe('billAvailability (ready hour 34: 10:00 UTC+8 the next morning)', () => {
  it('a day\'s bill is made the next morning at 10:00 UTC+8, not before', () => {
    // 2026-11-24 UTC+8 starts at 2026-11-23T16:00Z; 10:00 on the 25th UTC+8 is 2026-11-25T02:00Z.
    expect(billAvailability('20261124', 34, at('2026-11-24T12:00:00Z'))).toBe('creating'); // the same evening
    expect(billAvailability('20261124', 34, at('2026-11-25T01:59:59Z'))).toBe('creating'); // 09:59:59 next morning
    expect(billAvailability('20261124', 34, at('2026-11-25T02:00:00Z'))).toBe('ready'); // 10:00
    expect(billAvailability('20261130', 34, at('2026-11-25T02:00:00Z'))).toBe('creating'); // a future day
  });

  it('only 3 calendar months back (UTC+8)', () => {
    const now = at('2026-11-25T02:00:00Z'); // 2026-11-25 10:00 UTC+8
    expect(billAvailability('20260825', 34, now)).toBe('ready');
    expect(billAvailability('20260824', 34, now)).toBe('expired');
    expect(billAvailability('20200101', 34, now)).toBe('expired');
  });

  it('the UTC+8 calendar decides, not UTC: at 2026-11-24T17:00Z it is already the 25th in China', () => {
    expect(billAvailability('20260825', 34, at('2026-11-24T17:00:00Z'))).toBe('ready');
    expect(billAvailability('20260824', 34, at('2026-11-24T17:00:00Z'))).toBe('expired');
  });

  it('ready hour 0 serves a day from its first second; a date that does not exist is invalid', () => {
    expect(billAvailability('20261125', 0, at('2026-11-24T16:00:00Z'))).toBe('ready');
    expect(billAvailability('20261124', 0, at('2026-11-23T15:59:59Z'))).toBe('creating');
    expect(billAvailability('20261399', 34)).toBe('invalid');
    expect(billAvailability('2026-11-24', 34)).toBe('invalid');
  });
});
