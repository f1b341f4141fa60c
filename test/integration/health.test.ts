import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ENGINES } from '../helpers/db';
import { type AppServer, startApp } from '../helpers/server';

describe.each(ENGINES)('/api/health on %s', (engine) => {
  let app: AppServer;
  afterAll(async () => app?.stop());

  it('answers ok with the mode and the engine', async () => {
    app = await startApp({ engine });
    const r = await fetch(`${app.baseUrl}/api/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true, mode: 'sandbox', db: engine });
  });

  it('serves the catalog on / with shop links', async () => {
    const html = await (await fetch(`${app.baseUrl}/`)).text();
    expect(html).toContain('href="/shop/test-1fen"');
    expect(html).toContain('¥<!-- -->0.01');
  });
});

describe('live mode start-up', () => {
  it('with nothing set exits non-zero and lists each missing variable', () => {
    const root = path.resolve(__dirname, '../..');
    const env: Record<string, string | undefined> = { PATH: process.env.PATH, HOME: process.env.HOME, WECHAT_MODE: 'live', NEXT_DIST_DIR: inject('distDir'), NEXT_TELEMETRY_DISABLED: '1' };
    const r = spawnSync(process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), 'start', '-p', '0'], { cwd: root, env: env as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    for (const v of ['PUBLIC_BASE_URL', 'WECHAT_APPID', 'WECHAT_APP_SECRET', 'WECHATPAY_MCH_ID', 'WECHATPAY_API_KEY', 'MERCHANT_PASSWORD', 'SESSION_SECRET']) {
      expect(r.stderr).toContain(`${v}:`);
    }
  });
});

describe('/api/health when PostgreSQL goes away', () => {
  let app: AppServer;
  afterAll(async () => app?.stop());

  it('answers 503 while the database refuses connections, and ok again once it is back', async () => {
    app = await startApp({ engine: 'postgres' });
    const name = new URL(app.databaseUrl).pathname.slice(1);
    const admin = new Client({ connectionString: inject('pgUrl') });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
      const down = await fetch(`${app.baseUrl}/api/health`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ ok: false, mode: 'sandbox', db: 'postgres' });
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      const up = await fetch(`${app.baseUrl}/api/health`);
      expect(up.status).toBe(200);
      expect(await up.json()).toEqual({ ok: true, mode: 'sandbox', db: 'postgres' });
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => {});
      await admin.end();
    }
  });
});
