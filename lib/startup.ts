import { type AppConfig, parseConfig } from './config';
import { getDbHandle } from './db';
import { createLogger, log, registerSecrets } from './log';
import { observeSqliteCheckpoints } from './metrics';
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
  if (process.env.SANDBOX_ONLY === '1') return bootSandboxOnly(config);
  try {
    const handle = await getDbHandle();
    const checkpoints = handle.checkpoints;
    if (checkpoints) observeSqliteCheckpoints(checkpoints);
    // The sandbox's tables are ensured now, like the app's migrations, not on the notifier's first pass:
    // that pass would otherwise be a write that can meet another process's lock (and block for the busy
    // timeout) long after start, and retry every second until it gets through.
    if (config.mode === 'sandbox') await (await import('./sandbox/db')).sandboxDb();
  } catch (e) {
    createLogger({ stderr: true }).fatal({ event: 'startup', outcome: 'refused', db: config.dbKind, err: e }, `Refusing to start: ${config.dbKind} database unavailable: ${(e as Error).message}`);
    process.exit(1);
  }
  const reconciler = await import('./checkout/reconciler');
  const webhooks = await import('./checkout/webhooks');
  if (config.mode === 'sandbox') await loadSandboxMerchants();
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

/** SANDBOX_MERCHANTS_FILE, when set: a bad file refuses to start, naming each problem. */
async function loadSandboxMerchants(): Promise<void> {
  const errors = await (await import('./sandbox/merchants-file')).loadMerchantsFile();
  if (errors.length === 0) return;
  createLogger({ stderr: true }).fatal({ event: 'startup', outcome: 'refused', errors }, `Refusing to start: invalid sandbox merchants:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
  process.exit(1);
}

/**
 * The sandbox on its own (SANDBOX_ONLY=1, `npm run sandbox`): only WeChat's side runs. Its database
 * holds only sandbox_* tables (no checkout migrations), and neither the reconciler nor the webhook
 * deliverer starts: there is no checkout here. The gate in scripts/sandbox-server.mjs keeps every
 * non-sandbox route unreachable. SIGTERM stops the notifier and closes the database like the app's.
 */
async function bootSandboxOnly(config: AppConfig): Promise<void> {
  try {
    await (await import('./sandbox/db')).sandboxDb();
  } catch (e) {
    createLogger({ stderr: true }).fatal({ event: 'startup', outcome: 'refused', db: config.dbKind, err: e }, `Refusing to start: ${config.dbKind} database unavailable: ${(e as Error).message}`);
    process.exit(1);
  }
  await loadSandboxMerchants();
  const sandbox = await import('./sandbox/notifier');
  sandbox.startSandboxNotifier(config);
  installGracefulShutdown({
    timeoutMs: config.shutdownTimeoutMs,
    markShuttingDown: () => {},
    drainWorkers: async () => {
      await sandbox.stopSandboxNotifier();
    },
    flush: async () => {},
  });
  log().info({ event: 'startup', outcome: 'ready', mode: 'sandbox_only', port: config.port }, 'sandbox started on its own');
}
