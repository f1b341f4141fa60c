import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatWxDate, formatWxDateTime, formatWxTime, parseWxTime } from '../../../lib/wechatpay/time';

const ROOT = path.resolve(__dirname, '../../..');
// 2026-03-01 16:30:05 UTC = 2026-03-02 00:30:05 in Beijing: the date differs, so a zone mistake shows.
const T = Date.UTC(2026, 2, 1, 16, 30, 5);

describe('UTC+8 times', () => {
  it('formats in Beijing time across a date boundary', () => {
    expect(formatWxTime(T)).toBe('20260302003005');
    expect(formatWxDateTime(T)).toBe('2026-03-02 00:30:05');
    expect(formatWxDate(T)).toBe('20260302');
    expect(formatWxTime(Date.UTC(2026, 11, 31, 16, 0, 0))).toBe('20270101000000');
  });
  it('parses back to the same instant and refuses impossible dates', () => {
    expect(parseWxTime('20260302003005')).toBe(T);
    expect(parseWxTime('20261332000000')).toBeUndefined();
    expect(parseWxTime('20260230120000')).toBeUndefined();
    expect(parseWxTime('20260302250000')).toBeUndefined();
    expect(parseWxTime('2026030200300')).toBeUndefined();
    expect(parseWxTime('2026-03-02 00:30:05')).toBeUndefined();
  });
  it('time_expire is identical whatever the server TZ (child processes under three zones)', () => {
    const code = `import('./lib/wechatpay/time.ts').then((mod) => { const m = mod.formatWxTime ? mod : mod.default; const base = ${T}; console.log(JSON.stringify([m.formatWxTime(base + 2 * 3600 * 1000), m.parseWxTime('20260302003005'), new Date(base).getHours()])); })`;
    const results = ['UTC', 'Asia/Shanghai', 'America/New_York'].map((tz) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, env: { ...process.env, TZ: tz }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim()) as [string, number, number];
    });
    // The zones really differ (local hour of T), yet the wire time does not.
    expect(new Set(results.map((r) => r[2])).size).toBe(3);
    for (const r of results) expect(r.slice(0, 2)).toEqual(['20260302023005', T]);
  });
});
