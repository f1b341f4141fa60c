import { vi } from 'vitest';
import type { DbHandle } from '@/lib/db';
import type { AppServer } from './server';

/** Process-wide singletons lib/ keeps on globalThis (database, pay client, sandbox schema flag). */
const GLOBALS = ['wechat-checkout.db', 'wechat-checkout.pay-client', 'wechat-checkout.pay-client-v3', 'wechat-checkout.sandbox-db'];

/** What actAsInstanceOf writes into process.env; clear these before startApp so a suite's settings do not leak into the next server. */
export const INSTANCE_ENV = ['WECHAT_MODE', 'DATABASE_URL', 'PUBLIC_BASE_URL', 'PORT', 'SESSION_SECRET', 'WECHATPAY_API_VERSION'];

/**
 * Makes this test process a second instance of `app`, as a deployment behind a load balancer would
 * have: the same configuration (its database, its sandbox as WeChat, its public URL), fresh lib/
 * modules, and `handle` as the process database (shared with the suite, which closes it). Import
 * lib/checkout modules dynamically after calling this.
 */
export function actAsInstanceOf(app: AppServer, handle: DbHandle | Promise<DbHandle>, env: Record<string, string> = {}): void {
  const g = globalThis as Record<symbol, unknown>;
  for (const k of GLOBALS) delete g[Symbol.for(k)];
  Object.assign(process.env, {
    WECHAT_MODE: 'sandbox', DATABASE_URL: app.databaseUrl, PUBLIC_BASE_URL: app.baseUrl, PORT: String(app.port),
    SESSION_SECRET: 'x'.repeat(40), WECHATPAY_API_VERSION: 'v2', ...env,
  });
  vi.resetModules();
  g[Symbol.for('wechat-checkout.db')] = Promise.resolve(handle);
}
