import { describe, expect, it, vi } from 'vitest';

describe('lib/metrics', () => {
  it('is one registry per process, however many copies of the module are loaded (Next bundles each route)', async () => {
    const first = await import('@/lib/metrics');
    first.metrics().notifies.inc({ kind: 'payment', outcome: 'applied' });
    vi.resetModules();
    const second = await import('@/lib/metrics');
    expect(second).not.toBe(first);
    expect(second.metrics()).toBe(first.metrics());
    const { body, contentType } = await second.metricsText();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('wxcheckout_notifies_total{kind="payment",outcome="applied"} 1');
  });

  it('exposes every series the operations doc lists, and the process defaults', async () => {
    const { metrics, metricsText } = await import('@/lib/metrics');
    const m = metrics();
    m.wechatDuration.observe({ api: 'orderquery' }, 0.03);
    const { body } = await metricsText();
    for (const name of [
      'wxcheckout_notifies_total', 'wxcheckout_notify_duration_seconds', 'wxcheckout_payment_transitions_total', 'wxcheckout_wechat_api_calls_total',
      'wxcheckout_wechat_api_duration_seconds', 'wxcheckout_start_payments_total', 'wxcheckout_start_payment_duration_seconds',
      'wxcheckout_reconciler_sweeps_total', 'wxcheckout_reconciler_sweep_duration_seconds', 'wxcheckout_reconciler_findings_total',
      'wxcheckout_refunds_total', 'wxcheckout_webhook_deliveries_total', 'wxcheckout_webhook_delivery_duration_seconds', 'wxcheckout_merchant_logins_total',
      'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes',
    ]) {
      expect(body, name).toContain(`# TYPE ${name} `);
    }
    expect(body).toContain('wxcheckout_wechat_api_duration_seconds_bucket{le="0.05",api="orderquery"} 1');
  });
});
