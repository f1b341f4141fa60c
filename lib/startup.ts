import { parseConfig } from './config';
import { getDbHandle } from './db';
import { createLogger, log, registerSecrets } from './log';
import { installGracefulShutdown } from './shutdown';

/**
 * Server start-up, from instrumentation.ts. Live mode with a missing or malformed setting exits
 * non-zero naming every problem (one JSON line on stderr), before any request is served. The
 * configuration's secrets are handed to the logger, which cuts them out of every line. The database
 * is opened and migrated (idempotent; the catalog is seeded on first start only). Background workers
 * start here, and the graceful shutdown that stops them is installed (lib/shutdown.ts).
 */
export async function boot(): Promise<void> {
  const parsed = parseConfig();
  if (!parsed.ok) {
    const mode = process.env.WECHAT_MODE || 'sandbox';
    createLogger({ stderr: true }).fatal({ event: 'startup', outcome: 'refused', mode, errors: parsed.errors }, `Refusing to start: invalid configuration (${mode} mode):\n  - ${parsed.errors.join('\n  - ')}`);
    process.exit(1);
  }
  const config = parsed.config;
  registerSecrets([config.apiKey, config.appSecret, config.sessionSecret, config.merchantPassword, config.metricsToken]);
  try {
    await getDbHandle();
  } catch (e) {
    createLogger({ stderr: true }).fatal({ event: 'startup', outcome: 'refused', db: config.dbKind, err: e }, `Refusing to start: ${config.dbKind} database unavailable: ${(e as Error).message}`);
    process.exit(1);
  }
  const reconciler = await import('./checkout/reconciler');
  const webhooks = await import('./checkout/webhooks');
  const sandbox = config.mode === 'sandbox' ? await import('./sandbox/notifier') : undefined;
  reconciler.startReconciler(config); // orderquery/closeorder/refundquery sweeps
  webhooks.startWebhookDeliverer(config); // signed webhook deliveries from the outbox
  sandbox?.startSandboxNotifier(config); // sandbox notify deliveries
  const { flushRefusals } = await import('./checkout/kernel');
  const { markShuttingDown } = await import('./checkout/health');
  installGracefulShutdown({
    timeoutMs: config.shutdownTimeoutMs,
    markShuttingDown,
    drainWorkers: async () => {
      await Promise.all([reconciler.stopReconciler(), webhooks.drainWebhookDeliverer(), sandbox?.stopSandboxNotifier()]);
    },
    flush: () => flushRefusals(),
  });
  log().info({ event: 'startup', outcome: 'ready', mode: config.mode, db: config.dbKind, port: config.port }, 'checkout started');
}
