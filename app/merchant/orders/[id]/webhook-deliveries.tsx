import { listOrderDeliveries } from '@/lib/checkout/webhooks';
import type { Locale } from '@/lib/i18n';
import { DeliveriesTable } from '../../developers/deliveries-table';
import { webhooksCopy } from '../../developers/webhooks-copy';

/** The order's webhook deliveries (every event about it, to every endpoint) with Resend. */
export async function OrderWebhookDeliveries({ orderId, locale }: { orderId: string; locale: Locale }) {
  const t = webhooksCopy(locale);
  const r = await listOrderDeliveries(orderId);
  const deliveries = r.ok ? r.value : [];
  return (
    <section className="card" style={{ overflowX: 'auto' }} data-testid="order-webhooks">
      <h2 style={{ fontSize: 17, marginTop: 0 }}>{t.orderDeliveries}</h2>
      <DeliveriesTable deliveries={deliveries} t={t} orderId={orderId} testId="order-webhook-deliveries" />
    </section>
  );
}
