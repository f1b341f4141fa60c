import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/*
 * The process's Prometheus metrics (prom-client), served by GET /api/metrics (docs/operations.md,
 * "Metrics"). Each instance exposes its own counts: Prometheus scrapes every instance and sums.
 * Framework-free and imports nothing of the repository; lib/checkout counts through `metrics()`.
 * Label values are small fixed sets (outcomes, API names), never ids, so the series stay few.
 */

/** Latency buckets in seconds for calls to WeChat and webhook receivers (WeChat answers in tens of ms to seconds). */
const CALL_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Buckets in seconds for work inside the app (a notify, a startPayment, a sweep). */
const WORK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Every metric this app exports, on one registry. */
export interface Metrics {
  registry: Registry;
  /** WeChat notifies by kind (payment, refund) and outcome (applied, duplicate, duplicate_payment, pending, rejected, refused, error). */
  notifies: Counter<'kind' | 'outcome'>;
  notifyDuration: Histogram<'kind'>;
  /** applyPayment results by source (notify, query, merchant) and outcome. */
  paymentTransitions: Counter<'source' | 'outcome'>;
  /** WeChat Pay API calls by api and result (success; fail: WeChat answered result_code FAIL; error: no trustworthy answer). */
  wechatCalls: Counter<'api' | 'result'>;
  wechatDuration: Histogram<'api'>;
  /** startPayment by outcome (jsapi, native, or the refusal code). */
  startPayments: Counter<'outcome'>;
  startPaymentDuration: Histogram;
  /** Reconciler rounds by result (ran, skipped: another instance holds the lock, failed). */
  reconcilerSweeps: Counter<'result'>;
  reconcilerDuration: Histogram;
  /** What rounds found and acted on, by kind (expired, stray, query, orphan, refund). */
  reconcilerFindings: Counter<'kind'>;
  /** Refund state changes by the status reached (processing, succeeded, failed, abnormal). */
  refunds: Counter<'status'>;
  /** Webhook delivery attempts by result (delivered, retry, failed). */
  webhookDeliveries: Counter<'result'>;
  webhookDuration: Histogram;
  /** Merchant logins by result (ok, bad_password, throttled, bad_request). */
  logins: Counter<'result'>;
}

const key = Symbol.for('wechat-checkout.metrics');
type Holder = { [key]?: Metrics };

function build(): Metrics {
  const registry = new Registry();
  // process_* and nodejs_* (CPU, memory, event loop lag, GC, handles): prom-client's defaults.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    notifies: new Counter({ name: 'wxcheckout_notifies_total', help: 'WeChat notifies received, by kind and outcome', labelNames: ['kind', 'outcome'], registers }),
    notifyDuration: new Histogram({ name: 'wxcheckout_notify_duration_seconds', help: 'Time to answer a WeChat notify', labelNames: ['kind'], buckets: WORK_BUCKETS, registers }),
    paymentTransitions: new Counter({ name: 'wxcheckout_payment_transitions_total', help: 'Payment results applied, by source and outcome', labelNames: ['source', 'outcome'], registers }),
    wechatCalls: new Counter({ name: 'wxcheckout_wechat_api_calls_total', help: 'WeChat Pay API calls, by api and result', labelNames: ['api', 'result'], registers }),
    wechatDuration: new Histogram({ name: 'wxcheckout_wechat_api_duration_seconds', help: 'WeChat Pay API call latency, retries included', labelNames: ['api'], buckets: CALL_BUCKETS, registers }),
    startPayments: new Counter({ name: 'wxcheckout_start_payments_total', help: 'startPayment calls, by outcome', labelNames: ['outcome'], registers }),
    startPaymentDuration: new Histogram({ name: 'wxcheckout_start_payment_duration_seconds', help: 'startPayment latency', buckets: WORK_BUCKETS, registers }),
    reconcilerSweeps: new Counter({ name: 'wxcheckout_reconciler_sweeps_total', help: 'Reconciler rounds, by result', labelNames: ['result'], registers }),
    reconcilerDuration: new Histogram({ name: 'wxcheckout_reconciler_sweep_duration_seconds', help: 'Reconciler round duration (rounds that ran)', buckets: WORK_BUCKETS, registers }),
    reconcilerFindings: new Counter({ name: 'wxcheckout_reconciler_findings_total', help: 'Items the reconciler acted on, by kind', labelNames: ['kind'], registers }),
    refunds: new Counter({ name: 'wxcheckout_refunds_total', help: 'Refund state changes, by the status reached', labelNames: ['status'], registers }),
    webhookDeliveries: new Counter({ name: 'wxcheckout_webhook_deliveries_total', help: 'Webhook delivery attempts, by result', labelNames: ['result'], registers }),
    webhookDuration: new Histogram({ name: 'wxcheckout_webhook_delivery_duration_seconds', help: 'Webhook delivery attempt duration', buckets: CALL_BUCKETS, registers }),
    logins: new Counter({ name: 'wxcheckout_merchant_logins_total', help: 'Merchant login attempts, by result', labelNames: ['result'], registers }),
  };
}

/**
 * The process's metrics, created once. Kept on globalThis because Next bundles each route handler and
 * instrumentation.ts separately: a module-level registry would give every bundle its own counts, and
 * /api/metrics would show only its own.
 */
export function metrics(): Metrics {
  const g = globalThis as Holder;
  return (g[key] ??= build());
}

/** What SQLite's checkpoint worker reports (lib/db's checkpointer), read at each scrape. */
export interface CheckpointSource {
  active: boolean;
  checkpoints: number;
  settles: number;
}

/**
 * Exports the SQLite checkpoint worker's state, read from `read` at each scrape: whether it runs (1)
 * or SQLite checkpoints on the app's connection (0), the checkpoints it ran, and the times the app
 * waited for one so the WAL could start over. Registered once per process, by the start-up.
 */
export function observeSqliteCheckpoints(read: () => CheckpointSource): void {
  const m = metrics();
  if (m.registry.getSingleMetric('wxcheckout_sqlite_checkpoint_worker')) return;
  const registers = [m.registry];
  new Gauge({ name: 'wxcheckout_sqlite_checkpoint_worker', help: 'SQLite checkpoints: 1 in their worker thread, 0 on the app connection (the worker could not run)', registers, collect() {
    this.set(read().active ? 1 : 0);
  } });
  // Counts kept by the worker's owner: set at each scrape (they only grow while the process lives).
  new Counter({ name: 'wxcheckout_sqlite_checkpoints_total', help: 'SQLite WAL checkpoints run by the worker thread', registers, collect() {
    this.reset();
    this.inc(read().checkpoints);
  } });
  new Counter({ name: 'wxcheckout_sqlite_wal_restarts_waited_total', help: 'Times a write waited for a checkpoint so SQLite could write the WAL from its start again', registers, collect() {
    this.reset();
    this.inc(read().settles);
  } });
}

/** The Prometheus text exposition of every metric of this process, and its content type. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  const { registry } = metrics();
  return { contentType: registry.contentType, body: await registry.metrics() };
}
