import type { SandboxRequestsTable } from '@/lib/sandbox/schema';
import type { Copy } from './copy';
import s from './sandbox.module.css';

/**
 * Refused requests with the signature debugger's diagnosis: what WeChat answered on the wire, the
 * likely cause in the reader's language, then the expected string (key masked) and both signs.
 */
export function RequestsTable({ requests, t }: { requests: SandboxRequestsTable[]; t: Copy }) {
  return (
    <table className={s.table} data-testid="sandbox-requests">
      <thead>
        <tr><th>{t.at}</th><th>{t.api}</th><th>{t.reason}</th><th>{t.likelyCause}</th></tr>
      </thead>
      <tbody>
        {requests.map((r) => (
          <tr key={r.id} data-testid="sandbox-request" data-api={r.api} data-outcome={r.outcome} data-cause={r.likely_cause ?? ''}>
            <td className={s.muted}>{r.at.replace('T', ' ').slice(0, 19)}Z</td>
            <td className={s.mono} style={{ whiteSpace: 'nowrap' }}>{r.api}</td>
            <td style={{ whiteSpace: 'nowrap' }}><span className={`${s.badge} ${s.failed}`}>{r.reason}</span></td>
            <td>
              {r.likely_cause && (
                <div data-testid="sandbox-request-cause">
                  <strong className={s.mono}>{r.likely_cause}</strong> {t.causes[r.likely_cause] ?? ''}
                  {r.cause_detail && <span className={`${s.mono} ${s.muted}`}> ({r.cause_detail})</span>}
                </div>
              )}
              {r.expected_string !== null && (
                <dl className={s.sig}>
                  <dt>{t.expectedString}</dt><dd className={s.mono} data-testid="sandbox-request-expected-string">{r.expected_string}</dd>
                  <dt>{t.expectedSign}</dt><dd className={s.mono}>{r.expected_sign}</dd>
                  <dt>{t.receivedSign}</dt><dd className={s.mono}>{r.received_sign || '—'}</dd>
                </dl>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
