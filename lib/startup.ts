import { parseConfig } from './config';
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
  try {
    await getDbHandle();
  } catch (e) {
    console.error(`Refusing to start: ${config.dbKind} database unavailable: ${(e as Error).message}`);
    process.exit(1);
  }
  (await import('./checkout/reconciler')).startReconciler(config); // orderquery/closeorder/refundquery sweeps
  (await import('./checkout/webhooks')).startWebhookDeliverer(config); // signed webhook deliveries from the outbox
  if (config.mode === 'sandbox') (await import('./sandbox/notifier')).startSandboxNotifier(config); // sandbox notify deliveries
}
