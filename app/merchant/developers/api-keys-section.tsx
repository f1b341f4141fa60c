'use client';

import { useActionState } from 'react';
import { formatChinaTime } from '@/lib/china-time';
import type { ApiKeySummary } from '@/lib/checkout/developers';
import { createKeyAction, revokeKeyAction } from './actions';

/** Labels of the section, in the merchant's language. */
export type ApiKeyLabels = {
  title: string; intro: string; name: string; create: string; shownOnce: string; none: string;
  prefix: string; created: string; lastUsed: string; revoke: string; revoked: string; mode: string;
};

/**
 * API keys: make one (its secret is shown here once and never again: only its hash is stored), list
 * them (prefix, mode, last use) and revoke one. A section of its own so the Developers page can grow
 * other sections (webhooks) beside it.
 */
export function ApiKeysSection({ keys, labels }: { keys: ApiKeySummary[]; labels: ApiKeyLabels }) {
  const [state, action, pending] = useActionState(createKeyAction, null);
  return (
    <section className="card" data-testid="api-keys">
      <h2 style={{ fontSize: 17, marginTop: 0 }}>{labels.title}</h2>
      <p className="muted">{labels.intro}</p>
      <form action={action} data-testid="api-key-form" style={{ display: 'flex', gap: 8, alignItems: 'end' }}>
        <label>{labels.name} <input name="name" required maxLength={100} data-testid="api-key-name" /></label>
        <button type="submit" className="btn" disabled={pending} data-testid="api-key-create">{labels.create}</button>
      </form>
      {state?.ok === true && (
        <div data-testid="api-key-new" data-key-id={state.id} style={{ margin: '12px 0' }}>
          <p className="error">{labels.shownOnce}</p>
          <code data-testid="api-key-secret" style={{ wordBreak: 'break-all', userSelect: 'all' }}>{state.key}</code>
        </div>
      )}
      {state?.ok === false && <p className="error" role="alert" data-testid="api-key-error">{state.message}</p>}
      {keys.length === 0 ? (
        <p className="muted" data-testid="api-keys-empty">{labels.none}</p>
      ) : (
        <table>
          <thead><tr><th>{labels.name}</th><th>{labels.prefix}</th><th>{labels.mode}</th><th>{labels.created}</th><th>{labels.lastUsed}</th><th /></tr></thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} data-testid="api-key-row" data-key-id={k.id} data-revoked={k.revoked_at ? '1' : '0'}>
                <td>{k.name}</td>
                <td><code>{k.prefix}…</code></td>
                <td>{k.livemode ? 'live' : 'test'}</td>
                <td>{formatChinaTime(k.created_at)}</td>
                <td>{k.last_used_at ? formatChinaTime(k.last_used_at) : '—'}</td>
                <td>
                  {k.revoked_at ? (
                    <span className="badge closed">{labels.revoked}</span>
                  ) : (
                    <form action={revokeKeyAction.bind(null, k.id)}>
                      <button type="submit" className="btn secondary" data-testid="api-key-revoke">{labels.revoke}</button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
