import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { MIGRATIONS } from '@/lib/db/migrations';
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

/** The migrations this code ships: /api/ready compares the database with these. */
const SHIPPED = Object.keys(MIGRATIONS).length;

describe.each(ENGINES)('/api/ready on %s', (engine) => {
  let app: AppServer;
  let h: DbHandle;
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });
  const ready = async () => {
    const r = await fetch(`${app.baseUrl}/api/ready`);
    return { status: r.status, body: (await r.json()) as Record<string, any> };
  };

  it('200 with the database, every shipped migration applied, and where the reconciler and its lock stand', async () => {
    app = await startApp({ engine });
    h = openDb(app.databaseUrl);
    const r = await ready();
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      ok: true, mode: 'sandbox', shuttingDown: false, db: { ok: true, kind: engine },
      migrations: { ok: true, applied: SHIPPED, shipped: SHIPPED, pending: [], unknown: [] },
      reconciler: { enabled: true, intervalMs: 30_000, lock: engine === 'postgres' ? 'free' : 'not_used', lastRound: null },
    });
  });

  it('503 naming the migration when one is not applied, or when the database knows one this code does not', async () => {
    const migrations = h.db.withTables<{ kysely_migration: { name: string; timestamp: string } }>();
    const row = await migrations.selectFrom('kysely_migration').selectAll().where('name', '=', '0007_webhooks').executeTakeFirstOrThrow();
    await migrations.deleteFrom('kysely_migration').where('name', '=', '0007_webhooks').execute();
    try {
      const r = await ready();
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ ok: false, db: { ok: true }, migrations: { ok: false, applied: SHIPPED - 1, pending: ['0007_webhooks'], unknown: [] } });
    } finally {
      await migrations.insertInto('kysely_migration').values(row).execute();
    }
    await migrations.insertInto('kysely_migration').values({ name: '9999_from_a_newer_version', timestamp: new Date().toISOString() }).execute();
    try {
      const r = await ready();
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ ok: false, migrations: { ok: false, pending: [], unknown: ['9999_from_a_newer_version'] } });
    } finally {
      await migrations.deleteFrom('kysely_migration').where('name', '=', '9999_from_a_newer_version').execute();
    }
    expect((await ready()).status).toBe(200);
  });

  if (engine === 'postgres') {
    it("reports the reconciler lock another instance holds, and stays ready: one instance sweeping is enough", async () => {
      const other = new Client({ connectionString: app.databaseUrl });
      await other.connect();
      try {
        await other.query('select pg_advisory_lock(727300611)');
        const r = await ready();
        expect(r.status).toBe(200);
        expect(r.body.reconciler.lock).toBe('held_elsewhere');
        await other.query('select pg_advisory_unlock(727300611)');
        expect((await ready()).body.reconciler.lock).toBe('free');
      } finally {
        await other.end();
      }
    });
  }
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
      const notReady = await fetch(`${app.baseUrl}/api/ready`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ ok: false, db: { ok: false, kind: 'postgres', error: expect.stringContaining('database unavailable') }, migrations: null });
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      const up = await fetch(`${app.baseUrl}/api/health`);
      expect(up.status).toBe(200);
      expect(await up.json()).toEqual({ ok: true, mode: 'sandbox', db: 'postgres' });
      expect((await fetch(`${app.baseUrl}/api/ready`)).status).toBe(200);
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => {});
      await admin.end();
    }
  });
});
