import { describe, expect, it } from 'vitest';
import { passwordMatches } from '@/lib/checkout/merchant';
import { formatYuan, parseYuanToFen } from '@/lib/money';
import { chinaDate, chinaDayBounds, formatChinaTime } from '@/lib/china-time';

describe('refund amounts typed in yuan', () => {
  it.each([
    ['0.5', 50], ['0.50', 50], ['1', 100], ['12.34', 1234], [' 3.0 ', 300], ['¥2', 200], ['0.01', 1], ['9999999.99', 999999999],
  ])('%s -> %i fen exactly', (text, fen) => {
    expect(parseYuanToFen(text)).toEqual({ ok: true, fen });
  });

  it.each(['1.234', '-1', 'abc', '0', '0.00', '', '1e3', '1,00', '.5', '10000000', '0x10', '1.'])('refuses %j with a message', (text) => {
    const r = parseYuanToFen(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message.length).toBeGreaterThan(5);
  });

  it('says what is wrong, in the merchant language', () => {
    expect(parseYuanToFen('1.234', 'en')).toMatchObject({ ok: false, message: expect.stringContaining('0.01') });
    expect(parseYuanToFen('0', 'zh')).toMatchObject({ ok: false, message: expect.stringContaining('0.01 元') });
    expect(formatYuan(150)).toBe('1.50');
    expect(formatYuan(7)).toBe('0.07');
  });
});

describe('China-time days', () => {
  it('bounds a UTC+8 day in UTC and refuses impossible dates', () => {
    expect(chinaDayBounds('2026-11-22')).toEqual({ start: '2026-11-21T16:00:00.000Z', end: '2026-11-22T16:00:00.000Z' });
    expect(chinaDayBounds('2026-02-30')).toBeUndefined();
    expect(chinaDate(Date.parse('2026-11-22T16:30:00Z'))).toBe('2026-11-23');
    expect(formatChinaTime('2026-11-22T16:30:05.000Z')).toBe('2026-11-23 00:30:05');
  });
});

describe('merchant password compare', () => {
  it('compares through fixed-length hashes', () => {
    expect(passwordMatches('sandbox', 'sandbox')).toBe(true);
    expect(passwordMatches('sandbox ', 'sandbox')).toBe(false);
    expect(passwordMatches('', 'sandbox')).toBe(false);
  });
});
