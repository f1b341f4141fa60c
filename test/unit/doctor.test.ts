import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { doctorReport } from '@/lib/doctor';

const live = {
  WECHAT_MODE: 'live', PUBLIC_BASE_URL: 'https://pay.example.com', WECHAT_APPID: 'wx2421b1c4370ec43b',
  WECHAT_APP_SECRET: 'secret', WECHATPAY_MCH_ID: '1900000109', WECHATPAY_API_KEY: 'a'.repeat(32),
  MERCHANT_PASSWORD: 'correct horse battery', SESSION_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://u@h/db',
};

describe('npm run doctor', () => {
  it('prints the exact values to register with WeChat for a live configuration', () => {
    const r = doctorReport(live);
    expect(r.ok).toBe(true);
    const text = r.lines.join('\n');
    expect(text).toContain('支付授权目录): https://pay.example.com/shop/');
    expect(text).toContain('支付授权目录): https://pay.example.com/pay/');
    expect(text).toContain('网页授权域名): pay.example.com');
    expect(text).toContain('https://pay.example.com/api/wechatpay/notify');
    expect(text).toContain('https://pay.example.com/api/wechatpay/refund-notify');
    expect(text).toContain('WECHATPAY_CERT_P12 is not set');
    // Why the payment window cannot be shorter (WeChat: time_expire时间过短，刷卡至少1分钟，其他5分钟).
    expect(text).toContain('payment window (ORDER_TTL_MINUTES): 15 min; WeChat refuses windows under 5 min, so at least 6');
  });

  it('prints the H5 payment domain to register, and the sandbox H5 domains like its payment directories', () => {
    expect(doctorReport(live).lines.join('\n')).toContain('H5 payment domain (H5支付域名, for phone browsers outside WeChat; WECHATPAY_MWEB=auto): pay.example.com');
    const sandbox = doctorReport({ SESSION_SECRET: 's'.repeat(32), SANDBOX_H5_DOMAINS: 'shop.example.com,m.example.com' }).lines.join('\n');
    expect(sandbox).toMatch(/H5 cashier holds pages \(Referer\) and redirect_url to these H5 domains \(SANDBOX_H5_DOMAINS\):\n {4}shop\.example\.com\n {4}m\.example\.com/);
  });

  it('says metrics are not served in live mode without METRICS_TOKEN, and how they are guarded with one', () => {
    const without = doctorReport(live).lines.join('\n');
    expect(without).toContain('Metrics: https://pay.example.com/api/metrics (NOT served: METRICS_TOKEN is not set)');
    expect(without).toContain('Warning: METRICS_TOKEN is not set: GET /api/metrics answers 403 in live mode');
    expect(without).toContain('Readiness: https://pay.example.com/api/ready');
    const withToken = doctorReport({ ...live, METRICS_TOKEN: 't'.repeat(24) }).lines.join('\n');
    expect(withToken).toContain('Metrics: https://pay.example.com/api/metrics (Authorization: Bearer $METRICS_TOKEN)');
    expect(withToken).not.toContain('METRICS_TOKEN is not set');
    expect(withToken).not.toContain('t'.repeat(24));
  });

  it('lists every problem of a broken configuration and exits 1 from the command line', () => {
    const root = path.resolve(__dirname, '../..');
    const r = spawnSync(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/doctor.ts'], {
      cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH, NODE_ENV: 'production', WECHAT_MODE: 'live', WECHAT_APPID: 'nope' },
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('NOT OK');
    expect(r.stdout).toContain('WECHAT_APPID: must be "wx"');
    expect(r.stdout).toContain('WECHATPAY_API_KEY: missing');
  });

  it('reads .env.local from the working directory, as next start does', () => {
    const root = path.resolve(__dirname, '../..');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wxdoctor-'));
    writeFileSync(path.join(dir, '.env.local'), 'PORT=4567\n');
    const r = spawnSync(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), path.join(root, 'scripts/doctor.ts')], {
      cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, NODE_ENV: 'production' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('支付授权目录): http://localhost:4567/shop/');
  });
});
