import type { WebhookDeliveryView } from '@/lib/checkout/webhooks';
import { formatChinaTime } from '@/lib/china-time';
import { ResendButton } from './webhook-forms';
import type { WebhooksCopy } from './webhooks-copy';

const BADGE: Record<string, string> = { delivered: 'paid', pending: 'pending', failed: 'warn' };

/**
 * Deliveries with status, last response code, attempts, next retry and Resend; each row opens to its
 * attempts (time, status or error, duration, the answer's first 1 KB). Used on the Webhooks section and
 * on an order's page (`orderId` set: Resend refreshes that page).
 */
export function DeliveriesTable({ deliveries, t, orderId, testId }: { deliveries: WebhookDeliveryView[]; t: WebhooksCopy; orderId: string | null; testId: string }) {
  if (deliveries.length === 0) return <p className="muted" data-testid={`${testId}-empty`}>{t.noDeliveries}</p>;
  return (
    <table data-testid={testId}>
      <thead><tr><th>{t.created}</th><th>{t.event}</th><th>{t.status}</th><th>{t.code}</th><th>{t.attempts}</th><th>{t.nextRetry}</th><th /></tr></thead>
      <tbody>
        {deliveries.map((d) => (
          <tr key={d.id} data-testid="webhook-delivery-row" data-delivery-id={d.id} data-event-id={d.event_id} data-status={d.status} data-attempts={d.attempts}>
            <td style={{ whiteSpace: 'nowrap' }}>{formatChinaTime(d.created_at)}</td>
            <td>
              <code>{d.event_type}</code>
              <div className="muted"><code>{d.event_id}</code>{orderId ? <> → <code>{d.url}</code></> : null}</div>
              {d.attempt_log.length > 0 && (
                <details>
                  <summary className="muted">{d.attempt_log.length} {t.attemptLog}</summary>
                  <ol style={{ margin: 0, paddingLeft: 18, fontSize: 13 }}>
                    {d.attempt_log.map((a) => (
                      <li key={a.attempt} data-testid="webhook-attempt-row" data-status={a.status ?? ''}>
                        {formatChinaTime(a.at)} · {a.status ?? a.error} · {a.duration_ms} ms
                        {a.response_head ? <pre style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all', background: '#f7f7f7', padding: 4, margin: '2px 0' }}>{a.response_head}</pre> : null}
                      </li>
                    ))}
                  </ol>
                </details>
              )}
            </td>
            <td><span className={`badge ${BADGE[d.status] ?? ''}`}>{t.statusNames[d.status] ?? d.status}</span>{d.last_error ? <div className="muted">{d.last_error}</div> : null}</td>
            <td data-testid="webhook-delivery-code">{d.last_status ?? '—'}</td>
            <td data-testid="webhook-delivery-attempts">{d.attempts}</td>
            <td data-testid="webhook-delivery-next" style={{ whiteSpace: 'nowrap' }}>{d.next_at ? formatChinaTime(d.next_at) : '—'}</td>
            <td><ResendButton deliveryId={d.id} orderId={orderId} label={t.resend} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
