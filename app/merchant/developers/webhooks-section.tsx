import { listEndpointDeliveries, listEndpoints, WEBHOOK_EVENT_TYPES } from '@/lib/checkout/webhooks';
import type { Locale } from '@/lib/i18n';
import { AutoRefresh } from '../orders/[id]/order-actions';
import { DeliveriesTable } from './deliveries-table';
import { AddEndpointForm, EndpointButtons } from './webhook-forms';
import { webhooksCopy } from './webhooks-copy';

/** Newest deliveries shown per endpoint (the JSON API pages further). */
const SHOWN = 20;

/**
 * The merchant's Webhooks section: add an endpoint (its secret shown once), and per endpoint its URL,
 * events, Roll secret, Delete and the newest deliveries with Resend. Refreshes itself while a delivery
 * is still pending.
 */
export async function WebhooksSection({ locale }: { locale: Locale }) {
  const t = webhooksCopy(locale);
  const endpoints = await listEndpoints();
  const withDeliveries = await Promise.all(endpoints.map(async (ep) => {
    const r = await listEndpointDeliveries(ep.id, SHOWN);
    return { ep, deliveries: r.ok ? r.value : [] };
  }));
  const pending = withDeliveries.some((x) => x.deliveries.some((d) => d.status === 'pending'));
  return (
    <section data-testid="webhooks-section">
      <AutoRefresh active={pending} />
      <section className="card">
        <h2 style={{ fontSize: 17, marginTop: 0 }}>{t.title}</h2>
        <p className="muted">{t.intro} {t.docs}</p>
        <AddEndpointForm t={t} eventTypes={WEBHOOK_EVENT_TYPES} />
      </section>
      {endpoints.length === 0 && <p className="muted" data-testid="webhooks-none">{t.none}</p>}
      {withDeliveries.map(({ ep, deliveries }) => (
        <section key={ep.id} className="card" data-testid="webhook-endpoint" data-endpoint-id={ep.id} style={{ overflowX: 'auto' }}>
          <div style={{ display: 'flex', gap: 12, flexWrap: 'wrap', alignItems: 'start', justifyContent: 'space-between' }}>
            <div>
              <strong data-testid="webhook-endpoint-url" style={{ wordBreak: 'break-all' }}>{ep.url}</strong>
              <div className="muted"><code>{ep.id}</code> · {ep.events.length === 0 ? t.allEvents : ep.events.join(', ')}</div>
            </div>
            <EndpointButtons id={ep.id} t={t} />
          </div>
          <h3 style={{ fontSize: 15 }}>{t.deliveries}</h3>
          <DeliveriesTable deliveries={deliveries} t={t} orderId={null} testId="webhook-deliveries" />
        </section>
      ))}
    </section>
  );
}
