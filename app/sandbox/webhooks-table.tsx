import { Fragment } from 'react';
import type { WebhookHitView } from '@/lib/sandbox/webhook-receiver';
import type { Copy } from './copy';
import s from './sandbox.module.css';

const SIG_CLASS: Record<string, string> = { valid: 'delivered', invalid: 'failed', 'bad-secret': 'failed', unsigned: 'failed' };

/**
 * The webhook receiver's hits, newest first: time, event type and webhook-id, what it answered, and the
 * signature checked against the pasted secret; each opens to its headers and body as received.
 */
export function WebhooksTable({ hits, t }: { hits: WebhookHitView[]; t: Copy }) {
  return (
    <table className={s.table} data-testid="sandbox-webhooks">
      <thead><tr><th>{t.at}</th><th>{t.event}</th><th>{t.webhookAnswered}</th><th>{t.signature}</th></tr></thead>
      <tbody>
        {hits.map((h) => (
          <tr key={h.id} data-testid="sandbox-webhook" data-webhook-id={h.webhook_id ?? ''} data-answered={h.answered} data-signature={h.signature.state}>
            <td className={s.muted} style={{ whiteSpace: 'nowrap' }}>{h.at.replace('T', ' ').slice(0, 23)}Z</td>
            <td>
              <span className={s.mono}>{h.type ?? '—'}</span> <span className={`${s.mono} ${s.muted}`}>{h.webhook_id}</span>
              {h.query && <span className={`${s.mono} ${s.muted}`}> ?{h.query}</span>}
              <details>
                <summary className={s.muted}>{t.headers} / {t.body}</summary>
                <dl className={s.sig}>
                  {Object.entries(h.headers).map(([k, v]) => (<Fragment key={k}><dt>{k}</dt><dd className={s.mono}>{v}</dd></Fragment>))}
                </dl>
                <pre className={s.mono} style={{ whiteSpace: 'pre-wrap', background: '#f7f7f7', padding: 6 }} data-testid="sandbox-webhook-body">{h.body}</pre>
              </details>
            </td>
            <td><span className={`${s.badge} ${h.answered < 300 ? s.delivered : s.failed}`}>{h.answered}</span></td>
            <td>
              <span className={`${s.badge} ${s[SIG_CLASS[h.signature.state] ?? ''] ?? ''}`} data-testid="sandbox-webhook-signature">{t.sig[h.signature.state]}</span>
              {'ageSeconds' in h.signature && <div className={s.muted}>{t.age} {h.signature.ageSeconds} s</div>}
              {h.signature.state === 'bad-secret' && <div className={s.muted}>{h.signature.message}</div>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
