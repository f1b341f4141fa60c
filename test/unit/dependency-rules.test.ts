import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The import rules in .dependency-cruiser.cjs: (a) the real tree obeys them, exactly as `npm run deps`
 * checks it; (b) each rule fires, with its name, on a small fixture tree written to a temp dir that
 * mirrors the repo's paths (same config file, a copy of the real tsconfig.json for the `@/` alias,
 * the real node_modules linked in). Nothing tracked is touched; the temp dir is removed afterwards.
 *
 * Needs none of the global setup (PostgreSQL, next build), but runs under it like every test file:
 * vitest's globalSetup is per project, not per file.
 */

const ROOT = path.resolve(__dirname, '../..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

function depcruise(cwd: string, targets: string[], extra: string[] = []) {
  const r = spawnSync(process.execPath, [DEPCRUISE, ...targets, '--config', CONFIG, ...extra], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

describe('dependency rules: the real tree', () => {
  it('app, lib and instrumentation.ts break none of the rules (npm run deps)', () => {
    const r = depcruise(ROOT, ['app', 'lib', 'instrumentation.ts']);
    expect(r.status, `depcruise reported violations:\n${r.out}`).toBe(0);
    expect(r.out).toMatch(/no dependency violations found/);
  });
});

/** Fixture tree: the target layout in miniature. Comments name what each file is there to prove. */
const FIXTURE: Record<string, string> = {
  // ---- allowed edges (none of these may be reported) ----
  'instrumentation.ts': `export async function register() { await import('./lib/startup'); }\n`,
  'lib/startup.ts': `import { db } from '@/lib/db';\nimport { tick } from '@/lib/checkout/reconciler';\nexport const boot = () => [db, tick];\n`,
  'lib/config.ts': `export const config = { port: 3000 };\n`,
  'lib/money.ts': `export const yuan = (fen: number) => (fen / 100).toFixed(2);\n`,
  'lib/i18n.ts': `export const t = (k: string) => k;\n`,
  'lib/china-time.ts': `export const cn = (d: Date) => d.toISOString();\n`,
  'lib/session.ts':
    `import { getIronSession } from 'iron-session';\nimport { cookies } from 'next/headers';\n` +
    `export const session = async () => getIronSession(await cookies(), { password: 'x'.repeat(32), cookieName: 's' });\n`,
  'lib/db/index.ts': `import { Kysely } from 'kysely';\nimport { config } from '../config';\nimport type { Schema } from './schema';\nexport const db = [Kysely, config] as unknown as Schema;\n`,
  'lib/db/schema.ts': `export interface Schema { orders: { id: string } }\n`,
  'lib/wechatpay/sign.ts': `import { createHash } from 'node:crypto';\nimport type { Params } from './types';\nexport const sign = (p: Params) => createHash('md5').update(JSON.stringify(p)).digest('hex');\n`,
  'lib/wechatpay/types.ts': `export type Params = Record<string, string>;\n`,
  'lib/wechatpay/time.ts': `export const wxTime = (d: Date) => d.toISOString();\n`,
  'lib/wechatpay/client.ts': `import { XMLParser } from 'fast-xml-parser';\nimport { sign } from './sign';\nexport const client = { XMLParser, sign };\n`,
  'lib/wechatpay/index.ts': `export * from './client';\nexport * from './sign';\n`,
  'lib/wechat/ua.ts': `export const isWechat = (ua: string) => /MicroMessenger/.test(ua);\n`,
  'lib/sandbox/engine.ts':
    `import { sign } from '@/lib/wechatpay/sign';\nimport type { Params } from '@/lib/wechatpay/types';\n` +
    `import { db } from '@/lib/db';\nimport { config } from '@/lib/config';\nimport { yuan } from '@/lib/money';\n` +
    `export const engine = (p: Params) => [sign(p), db, config, yuan(1)];\n`,
  'lib/checkout/kernel/index.ts': `export { tx } from './tx';\n`,
  'lib/checkout/kernel/tx.ts': `import { db } from '@/lib/db';\nexport const tx = () => db;\n`,
  'lib/checkout/gateway/index.ts': `import { client } from '@/lib/wechatpay';\nimport { isWechat } from '@/lib/wechat/ua';\nexport const gw = [client, isWechat];\n`,
  'lib/checkout/payments/index.ts': `export { start } from './start';\n`,
  'lib/checkout/payments/start.ts': `import { tx } from '../kernel';\nimport { gw } from '@/lib/checkout/gateway';\nexport const start = () => [tx(), gw];\n`,
  'lib/checkout/reconciler/index.ts': `import { start } from '@/lib/checkout/payments/index';\nexport const tick = start;\n`,
  'lib/checkout/objects/index.ts': `import { tx } from '@/lib/checkout/kernel';\nimport type { Schema } from '@/lib/db/schema';\nimport { config } from '@/lib/config';\nexport const obj = (o: Schema['orders']) => [o.id, tx, config];\n`,
  'app/layout.tsx': `import type { Metadata } from 'next';\nexport const metadata: Metadata = {};\nexport default function L({ children }: { children: React.ReactNode }) { return children; }\n`,
  'app/page.tsx':
    `import Link from 'next/link';\nimport { start } from '@/lib/checkout/payments';\nimport { session } from '@/lib/session';\n` +
    `import { yuan } from '@/lib/money';\nimport { t } from '@/lib/i18n';\nimport { cn } from '@/lib/china-time';\nimport { config } from '../lib/config';\n` +
    `export default function P() { return [Link, start, session, yuan, t, cn, config]; }\n`,
  'lib/log/index.ts': `import pino from 'pino';\nexport const log = pino;\n`,
  'lib/metrics/index.ts': `import { Registry } from 'prom-client';\nexport const registry = new Registry();\n`,
  'lib/checkout/kernel/logs.ts': `import { log } from '@/lib/log';\nimport { registry } from '@/lib/metrics';\nexport const x = [log, registry];\n`,
  'app/logs.ts': `import { log } from '@/lib/log';\nexport const x = log;\n`,
  'app/sandbox/page.tsx': `import { engine } from '@/lib/sandbox/engine';\nimport { config } from '@/lib/config';\nimport { yuan } from '@/lib/money';\nexport default function S() { return [engine, config, yuan]; }\n`,

  // ---- violations ----
  'lib/checkout/orders/a.ts': `import { b } from './b';\nexport const a = () => b;\n`, // 1: cycle
  'lib/checkout/orders/b.ts': `import { a } from './a';\nexport const b = () => a;\n`, // 1: cycle
  'app/bad-db.tsx': `import { db } from '@/lib/db';\nexport const x = db;\n`, // 2
  'app/bad-internal.ts': `import { start } from '@/lib/checkout/payments/start';\nexport const x = start;\n`, // 2
  'app/bad-type.ts': `import type { Schema } from '@/lib/db/schema';\nexport type X = Schema;\n`, // 2, type-only
  'app/bad-protocol.ts': `import { wxTime } from '@/lib/wechatpay/time';\nexport const x = wxTime;\n`, // 2
  'app/sandbox/bad-checkout.ts': `import { start } from '@/lib/checkout/payments';\nexport const x = start;\n`, // 3
  'app/sandbox/bad-db.ts': `import { db } from '@/lib/db';\nexport const x = db;\n`, // 3
  'lib/checkout/kernel/bad-next.ts': `import { headers } from 'next/headers';\nexport const x = headers;\n`, // 4
  'lib/checkout/kernel/bad-react.ts': `import { useState } from 'react';\nexport const x = useState;\n`, // 4
  'lib/checkout/kernel/bad-session.ts': `import { session } from '@/lib/session';\nexport const x = session;\n`, // 4
  'lib/checkout/kernel/bad-sandbox.ts': `import { engine } from '@/lib/sandbox/engine';\nexport const x = engine;\n`, // 4
  'lib/checkout/refunds/index.ts': `import { start } from '../payments/start';\nexport const refund = start;\n`, // 5
  'lib/checkout/orders/bad-wire.ts': `import { wxTime } from '@/lib/wechatpay/time';\nexport const x = wxTime;\n`, // 5b
  'lib/wechatpay/bad.ts': `import { config } from '../config';\nexport const x = config;\n`, // 6
  'lib/wechat/bad.ts': `import { sign } from '@/lib/wechatpay/sign';\nimport { useState } from 'react';\nexport const x = [sign, useState];\n`, // 6 twice
  'lib/sandbox/bad-client.ts': `import { client } from '@/lib/wechatpay/client';\nexport const x = client;\n`, // 7
  'lib/sandbox/bad-index.ts': `import { sign } from '@/lib/wechatpay';\nexport const x = sign;\n`, // 7 (index re-exports the client)
  'lib/sandbox/bad-checkout.ts': `import { start } from '@/lib/checkout/payments';\nexport const x = start;\n`, // 7
  'lib/sandbox/bad-wechat.ts': `import { isWechat } from '@/lib/wechat/ua';\nexport const x = isWechat;\n`, // 7
  'lib/checkout/objects/bad.ts': `import { start } from '@/lib/checkout/payments';\nexport const x = start;\n`, // 5c
  'lib/db/bad.ts': `import { yuan } from '../money';\nexport const x = yuan;\n`, // 8
  'lib/log/bad.ts': `import { config } from '../config';\nexport const x = config;\n`, // 8b
  'lib/metrics/bad.ts': `import { db } from '@/lib/db';\nexport const x = db;\n`, // 8b
  'app/bad-metrics.ts': `import { registry } from '@/lib/metrics';\nexport const x = registry;\n`, // 2
  'app/bad-missing.ts': `import { nope } from '@/lib/nope';\nexport const x = nope;\n`, // 9
};

/**
 * Every violation the fixture must produce, as `rule: from → to` (node_modules paths shortened);
 * a cycle is reported once, as its members.
 */
const EXPECTED = [
  'no-circular: cycle lib/checkout/orders/a.ts, lib/checkout/orders/b.ts',
  'app-uses-checkout-public-surface: app/bad-db.tsx → lib/db/index.ts',
  'app-uses-checkout-public-surface: app/bad-internal.ts → lib/checkout/payments/start.ts',
  'app-uses-checkout-public-surface: app/bad-type.ts → lib/db/schema.ts',
  'app-uses-checkout-public-surface: app/bad-protocol.ts → lib/wechatpay/time.ts',
  'sandbox-face: app/sandbox/bad-checkout.ts → lib/checkout/payments/index.ts',
  'sandbox-face: app/sandbox/bad-db.ts → lib/db/index.ts',
  'checkout-framework-free: lib/checkout/kernel/bad-next.ts → node_modules/next/headers.d.ts',
  'checkout-framework-free: lib/checkout/kernel/bad-react.ts → node_modules/react/index.js',
  'checkout-framework-free: lib/checkout/kernel/bad-session.ts → lib/session.ts',
  'checkout-framework-free: lib/checkout/kernel/bad-sandbox.ts → lib/sandbox/engine.ts',
  'checkout-capabilities-via-index: lib/checkout/refunds/index.ts → lib/checkout/payments/start.ts',
  'wechatpay-only-through-gateway: lib/checkout/orders/bad-wire.ts → lib/wechatpay/time.ts',
  'objects-are-leaves: lib/checkout/objects/bad.ts → lib/checkout/payments/index.ts',
  'protocol-layers-are-leaves: lib/wechatpay/bad.ts → lib/config.ts',
  'protocol-layers-are-leaves: lib/wechat/bad.ts → lib/wechatpay/sign.ts',
  'protocol-layers-are-leaves: lib/wechat/bad.ts → node_modules/react/index.js',
  'sandbox-is-wechat: lib/sandbox/bad-client.ts → lib/wechatpay/client.ts',
  'sandbox-is-wechat: lib/sandbox/bad-index.ts → lib/wechatpay/index.ts',
  'sandbox-is-wechat: lib/sandbox/bad-checkout.ts → lib/checkout/payments/index.ts',
  'sandbox-is-wechat: lib/sandbox/bad-wechat.ts → lib/wechat/ua.ts',
  'db-below-domain: lib/db/bad.ts → lib/money.ts',
  'observability-leaves: lib/log/bad.ts → lib/config.ts',
  'observability-leaves: lib/metrics/bad.ts → lib/db/index.ts',
  'app-uses-checkout-public-surface: app/bad-metrics.ts → lib/metrics/index.ts',
  'not-to-unresolvable: app/bad-missing.ts → @/lib/nope',
];

interface Violation {
  type: string;
  rule: { name: string; severity: string };
  from: string;
  to: string;
  cycle?: { name: string }[];
}

describe('dependency rules: each rule fires on a planted violation', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'depcruise-rules-'));
    for (const [file, text] of Object.entries(FIXTURE)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    copyFileSync(path.join(ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
    // Real packages, so next/react/iron-session resolve as they do in the repo ('junction' for Windows).
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'junction');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports exactly the planted violations, each under its rule name, as errors', () => {
    const r = depcruise(dir, ['app', 'lib', 'instrumentation.ts'], ['--output-type', 'json']);
    let violations: Violation[];
    try {
      violations = JSON.parse(r.stdout).summary.violations;
    } catch {
      throw new Error(`depcruise gave no JSON:\n${r.out}`);
    }
    const short = (p: string) => p.replace(/^.*?node_modules\//, 'node_modules/');
    const got = violations.map((v) =>
      v.type === 'cycle'
        ? `${v.rule.name}: cycle ${(v.cycle ?? []).map((c) => c.name).sort().join(', ')}`
        : `${v.rule.name}: ${v.from} → ${short(v.to)}`,
    );
    expect([...got].sort()).toEqual([...EXPECTED].sort());
    expect(violations.every((v) => v.rule.severity === 'error')).toBe(true);
  });

  it('the CLI exits non-zero and names every rule (what npm run deps prints)', () => {
    const r = depcruise(dir, ['app', 'lib', 'instrumentation.ts']);
    expect(r.status).not.toBe(0);
    for (const rule of new Set(EXPECTED.map((e) => e.split(':')[0]))) {
      expect(r.out).toContain(`error ${rule}: `);
    }
  });
});
