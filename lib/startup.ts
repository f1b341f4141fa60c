import { type AppConfig, parseConfig } from './config';
import { getDbHandle } from './db';

/**
 * Server start-up, from instrumentation.ts. Live mode with a missing or malformed setting exits
 * non-zero naming every problem, before any request is served. The database is opened and migrated
 * (idempotent; the catalog is seeded on first start only). Background workers register here.
 */
export async function boot(): Promise<void> {
  const parsed = parseConfig();
  if (!parsed.ok) {
    console.error(`Refusing to start: invalid configuration (${process.env.WECHAT_MODE || 'sandbox'} mode):`);
    for (const e of parsed.errors) console.error(`  - ${e}`);
    process.exit(1);
  }
  const config = parsed.config;
  if (process.env.SANDBOX_ONLY === '1') return bootSandboxOnly(config);
  try {
    await getDbHandle();
  } catch (e) {
    console.error(`Refusing to start: ${config.dbKind} database unavailable: ${(e as Error).message}`);
    process.exit(1);
  }
  (await import('./checkout/reconciler')).startReconciler(config); // orderquery/closeorder/refundquery sweeps
  (await import('./checkout/webhooks')).startWebhookDeliverer(config); // signed webhook deliveries from the outbox
  if (config.mode === 'sandbox') {
    await loadSandboxMerchants();
    (await import('./sandbox/notifier')).startSandboxNotifier(config); // sandbox notify deliveries
  }
}

/** SANDBOX_MERCHANTS_FILE, when set: a bad file refuses to start, naming each problem. */
async function loadSandboxMerchants(): Promise<void> {
  const errors = await (await import('./sandbox/merchants-file')).loadMerchantsFile();
  if (errors.length === 0) return;
  console.error('Refusing to start: invalid sandbox merchants:');
  for (const e of errors) console.error(`  - ${e}`);
  process.exit(1);
}

/**
 * The sandbox on its own (SANDBOX_ONLY=1, `npm run sandbox`): only WeChat's side runs. Its database
 * holds only sandbox_* tables (no checkout migrations), and neither the reconciler nor the webhook
 * deliverer starts: there is no checkout here. The gate in scripts/sandbox-server.mjs keeps every
 * non-sandbox route unreachable.
 */
async function bootSandboxOnly(config: AppConfig): Promise<void> {
  try {
    await (await import('./sandbox/db')).sandboxDb();
  } catch (e) {
    console.error(`Refusing to start: ${config.dbKind} database unavailable: ${(e as Error).message}`);
    process.exit(1);
  }
  await loadSandboxMerchants();
  (await import('./sandbox/notifier')).startSandboxNotifier(config);
}
