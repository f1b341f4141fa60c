import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, SANDBOX_API_KEY, SANDBOX_APPID, SANDBOX_MCH_ID } from '@/lib/config';

const tmpDb = () => `file:${path.join(mkdtempSync(path.join(os.tmpdir(), 'wxcfg-')), 'c.db')}`;

describe('config', () => {
  it('sandbox defaults need nothing set and keep a generated session secret in the data dir', () => {
    const url = tmpDb();
    const r = parseConfig({ DATABASE_URL: url });
    if (!r.ok) throw new Error(r.errors.join('; '));
    expect(r.config).toMatchObject({
      mode: 'sandbox', port: 3000, publicBaseUrl: 'http://localhost:3000', appId: SANDBOX_APPID,
      mchId: SANDBOX_MCH_ID, apiKey: SANDBOX_API_KEY, signType: 'MD5', merchantPassword: 'sandbox',
      dbKind: 'sqlite', orderTtlMinutes: 15, trustProxy: false,
      mchBaseUrl: 'http://127.0.0.1:3000/sandbox/mch', openBaseUrl: 'http://localhost:3000/sandbox/open',
    });
    expect(r.config.sessionSecret.length).toBeGreaterThanOrEqual(32);
    const kept = readFileSync(path.join(path.dirname(url.slice(5)), 'session-secret'), 'utf8');
    expect(kept).toBe(r.config.sessionSecret);
    const again = parseConfig({ DATABASE_URL: url });
    expect(again.ok && again.config.sessionSecret).toBe(r.config.sessionSecret);
  });

  it('live mode with nothing set names every missing variable', () => {
    const r = parseConfig({ WECHAT_MODE: 'live' });
    expect(r.ok).toBe(false);
    const names = (r as { errors: string[] }).errors.map((e) => e.split(':')[0]);
    expect(names).toEqual(expect.arrayContaining([
      'PUBLIC_BASE_URL', 'WECHAT_APPID', 'WECHAT_APP_SECRET', 'WECHATPAY_MCH_ID', 'WECHATPAY_API_KEY',
      'MERCHANT_PASSWORD', 'SESSION_SECRET',
    ]));
  });

  it('live mode names each malformed variable and why', () => {
    const r = parseConfig({
      WECHAT_MODE: 'live', PUBLIC_BASE_URL: 'http://shop.example.com', WECHAT_APPID: 'wx123',
      WECHAT_APP_SECRET: 's', WECHATPAY_MCH_ID: '1900000109', WECHATPAY_API_KEY: 'short',
      MERCHANT_PASSWORD: 'tooshort', SESSION_SECRET: 'x'.repeat(10), WECHATPAY_CERT_P12: '/nonexistent/apiclient_cert.p12',
      WECHATPAY_SIGN_TYPE: 'SHA1',
    });
    expect(r.ok).toBe(false);
    const errors = (r as { errors: string[] }).errors.join('\n');
    expect(errors).toMatch(/PUBLIC_BASE_URL: must be https/);
    expect(errors).toMatch(/WECHAT_APPID: must be "wx" followed by 16/);
    expect(errors).toMatch(/WECHATPAY_API_KEY: must be exactly 32 bytes/);
    expect(errors).toMatch(/MERCHANT_PASSWORD: must be at least 12/);
    expect(errors).toMatch(/SESSION_SECRET: must be at least 32/);
    expect(errors).toMatch(/WECHATPAY_CERT_P12: cannot read/);
    expect(errors).toMatch(/WECHATPAY_SIGN_TYPE: must be MD5 or HMAC-SHA256/);
  });

  it('a complete live configuration is accepted and points at WeChat', () => {
    const r = parseConfig({
      WECHAT_MODE: 'live', PUBLIC_BASE_URL: 'https://shop.example.com/', WECHAT_APPID: 'wx2421b1c4370ec43b',
      WECHAT_APP_SECRET: 'secret', WECHATPAY_MCH_ID: '1900000109', WECHATPAY_API_KEY: 'a'.repeat(32),
      MERCHANT_PASSWORD: 'correct horse battery', SESSION_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://u@h/db',
    });
    if (!r.ok) throw new Error(r.errors.join('; '));
    expect(r.config.publicBaseUrl).toBe('https://shop.example.com');
    expect(r.config.mchBaseUrl).toBe('https://api.mch.weixin.qq.com');
    expect(r.config.openBaseUrl).toBe('https://open.weixin.qq.com');
    expect(r.config.apiBaseUrl).toBe('https://api.weixin.qq.com');
    expect(r.config.dbKind).toBe('postgres');
  });

  it('ORDER_TTL_MINUTES is at least 6: WeChat refuses time_expire under 5 minutes (time_expire时间过短，刷卡至少1分钟，其他5分钟), plus a minute of clock skew', () => {
    for (const v of ['2', '5']) {
      const r = parseConfig({ ORDER_TTL_MINUTES: v, SESSION_SECRET: 's'.repeat(32) });
      expect(r.ok).toBe(false);
      const errors = (r as { errors: string[] }).errors.join('\n');
      expect(errors).toContain(`ORDER_TTL_MINUTES: must be an integer from 6 to 10080, got "${v}"`);
      expect(errors).toMatch(/refuses a time_expire less than 5 minutes away.*clock skew/);
    }
    const ok = parseConfig({ ORDER_TTL_MINUTES: '6', SESSION_SECRET: 's'.repeat(32) });
    if (!ok.ok) throw new Error(ok.errors.join('; '));
    expect(ok.config.orderTtlMinutes).toBe(6);
  });

  it('SANDBOX_BILL_READY_HOUR: WeChat\'s 34 (10:00 UTC+8 the next morning) by default, 0 to 48, anything else refused', () => {
    const d = parseConfig({ DATABASE_URL: tmpDb() });
    expect(d.ok && d.config.sandboxBillReadyHour).toBe(34);
    const z = parseConfig({ DATABASE_URL: tmpDb(), SANDBOX_BILL_READY_HOUR: '0' });
    expect(z.ok && z.config.sandboxBillReadyHour).toBe(0);
    for (const v of ['-1', '49', '10h']) {
      const r = parseConfig({ DATABASE_URL: tmpDb(), SANDBOX_BILL_READY_HOUR: v });
      expect(r.ok).toBe(false);
      expect((r as { errors: string[] }).errors.join('\n')).toContain('SANDBOX_BILL_READY_HOUR');
    }
  });

  it('DATABASE_POOL_MAX: 20 PostgreSQL connections by default, 1 to 1000, anything else refused', () => {
    const d = parseConfig({ DATABASE_URL: tmpDb() });
    expect(d.ok && d.config.dbPoolMax).toBe(20);
    const one = parseConfig({ DATABASE_URL: tmpDb(), DATABASE_POOL_MAX: '1' });
    expect(one.ok && one.config.dbPoolMax).toBe(1);
    for (const v of ['0', '1001', '2.5', 'ten']) {
      const r = parseConfig({ DATABASE_URL: tmpDb(), DATABASE_POOL_MAX: v });
      expect(r.ok).toBe(false);
      expect((r as { errors: string[] }).errors.join('\n')).toContain('DATABASE_POOL_MAX');
    }
  });

  it('DATABASE_NAMED_STATEMENTS: on by default, 0 turns it off, anything else refused', () => {
    const d = parseConfig({ DATABASE_URL: tmpDb() });
    expect(d.ok && d.config.dbNamedStatements).toBe(true);
    expect(parseConfig({ DATABASE_URL: tmpDb(), DATABASE_NAMED_STATEMENTS: '1' })).toMatchObject({ ok: true, config: { dbNamedStatements: true } });
    expect(parseConfig({ DATABASE_URL: tmpDb(), DATABASE_NAMED_STATEMENTS: '0' })).toMatchObject({ ok: true, config: { dbNamedStatements: false } });
    for (const v of ['off', 'true', '2']) {
      const r = parseConfig({ DATABASE_URL: tmpDb(), DATABASE_NAMED_STATEMENTS: v });
      expect(r.ok, v).toBe(false);
      expect((r as { errors: string[] }).errors.join('\n')).toContain('DATABASE_NAMED_STATEMENTS: must be 1 (default) or 0');
    }
  });

  it('refuses bad values in sandbox mode too', () => {
    const r = parseConfig({ PORT: 'abc', DATABASE_URL: 'mysql://x', ORDER_TTL_MINUTES: '0', WECHAT_MODE: 'test', RECONCILE_INTERVAL_MS: '5s', TRUST_PROXY: 'yes' });
    expect(r.ok).toBe(false);
    const errors = (r as { errors: string[] }).errors.join('\n');
    expect(errors).toMatch(/PORT/);
    expect(errors).toMatch(/DATABASE_URL/);
    expect(errors).toMatch(/ORDER_TTL_MINUTES/);
    expect(errors).toMatch(/WECHAT_MODE/);
    expect(errors).toMatch(/RECONCILE_INTERVAL_MS: must be an integer/);
    expect(errors).toMatch(/TRUST_PROXY: must be 1 or unset/);
  });

  it('webhook settings: defaults, bounds, and no time scale in live mode', () => {
    const d = parseConfig({ DATABASE_URL: tmpDb() });
    if (!d.ok) throw new Error(d.errors.join('; '));
    expect(d.config.webhooks).toEqual({ timeScale: 1, pollMs: 5000, concurrency: 8 });
    const t = parseConfig({ DATABASE_URL: tmpDb(), WEBHOOK_TIME_SCALE: '1000', WEBHOOK_POLL_MS: '0', WEBHOOK_CONCURRENCY: '2' });
    expect(t.ok && t.config.webhooks).toEqual({ timeScale: 1000, pollMs: 0, concurrency: 2 });
    const bad = parseConfig({ DATABASE_URL: tmpDb(), WEBHOOK_TIME_SCALE: '0.5', WEBHOOK_POLL_MS: '5', WEBHOOK_CONCURRENCY: '0' });
    expect(bad.ok).toBe(false);
    const errors = (bad as { errors: string[] }).errors.join('\n');
    expect(errors).toMatch(/WEBHOOK_TIME_SCALE: must be a number >= 1, got "0.5"/);
    expect(errors).toMatch(/WEBHOOK_POLL_MS: must be 0 \(off\) or from 20 to 3600000, got "5"/);
    expect(errors).toMatch(/WEBHOOK_CONCURRENCY: must be an integer from 1 to 100, got "0"/);
    const live = parseConfig({
      WECHAT_MODE: 'live', PUBLIC_BASE_URL: 'https://shop.example.com', WECHAT_APPID: 'wx2421b1c4370ec43b', WECHAT_APP_SECRET: 'secret',
      WECHATPAY_MCH_ID: '1900000109', WECHATPAY_API_KEY: 'a'.repeat(32), MERCHANT_PASSWORD: 'correct horse battery', SESSION_SECRET: 's'.repeat(32),
      DATABASE_URL: 'postgres://u@h/db', WEBHOOK_TIME_SCALE: '1000',
    });
    expect(live.ok && live.config.webhooks.timeScale).toBe(1);
  });

  it('operations settings: METRICS_TOKEN length, LOG_LEVEL names, SHUTDOWN_TIMEOUT_MS bounds', () => {
    const d = parseConfig({ DATABASE_URL: tmpDb() });
    if (!d.ok) throw new Error(d.errors.join('; '));
    expect({ token: d.config.metricsToken, level: d.config.logLevel, shutdown: d.config.shutdownTimeoutMs }).toEqual({ token: undefined, level: 'info', shutdown: 25_000 });
    const ok = parseConfig({ DATABASE_URL: tmpDb(), METRICS_TOKEN: 'm'.repeat(16), LOG_LEVEL: 'debug', SHUTDOWN_TIMEOUT_MS: '5000' });
    expect(ok.ok && [ok.config.metricsToken, ok.config.logLevel, ok.config.shutdownTimeoutMs]).toEqual(['m'.repeat(16), 'debug', 5000]);
    const bad = parseConfig({ DATABASE_URL: tmpDb(), METRICS_TOKEN: 'short', LOG_LEVEL: 'verbose', SHUTDOWN_TIMEOUT_MS: '10' });
    expect(bad.ok).toBe(false);
    const errors = (bad as { errors: string[] }).errors.join('\n');
    expect(errors).toMatch(/METRICS_TOKEN: must be at least 16 characters/);
    expect(errors).toMatch(/LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"/);
    expect(errors).toMatch(/SHUTDOWN_TIMEOUT_MS: must be an integer from 1000 to 600000, got "10"/);
  });
});
