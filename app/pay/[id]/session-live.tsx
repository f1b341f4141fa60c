'use client';
import { useEffect } from 'react';
import type { CheckoutCopy } from '@/app/_components/checkout-copy';
import { useOrderStatus } from '@/app/_components/use-order-status';
import type { SessionStatus } from '@/lib/checkout/objects';
import dynamic from 'next/dynamic';
import { payAgainSessionForm } from './actions';

/* Only a buyer back from WeChat's H5 cashier needs these controls: their own chunk, out of the page weight budget's way. */
const H5Return = dynamic(() => import('@/app/_components/h5-return').then((m) => m.H5Return));

const PAID = new Set(['paid', 'partially_refunded', 'refunded']);

/**
 * A session that is not (or no longer) offering a pay control: back from the WeChat sheet (`confirming`
 * until the server has the payment, then on to success_url), or paid, expired, closed. `order-status`
 * carries the session's status in data-status (open, paid, expired, closed, ...).
 */
export function SessionLive(props: {
  id: string; status: SessionStatus; copy: CheckoutCopy; successRedirect: string | null; confirming: boolean;
  /** Back from WeChat's H5 cashier: when the page was asked for, and the status a check before rendering found (else null). */
  h5?: { returnedAt: string; checked: string | null };
}) {
  const { copy: c, h5 } = props;
  // Only an open session can still change by itself; the others are shown as they are.
  const { data, mutate } = useOrderStatus(props.status === 'open' ? props.id : undefined);
  const status: string = data ? (PAID.has(data.status) ? data.status : props.status) : props.status;
  const paid = PAID.has(status);
  useEffect(() => {
    if (paid && props.successRedirect) window.location.assign(props.successRedirect);
  }, [paid, props.successRedirect]);
  return (
    <div className="card">
      <p>
        {c.statusLabel}{' '}
        <span data-testid="order-status" data-status={status} className={`badge ${status}`}>
          {c.status[status] ?? status}
        </span>
      </p>
      {paid && <p data-testid="paid-thanks">{props.successRedirect ? c.redirecting : c.sessionPaid}</p>}
      {!paid && props.confirming && <p data-testid="confirming" className="muted">{c.confirming}</p>}
      {h5 && status === 'open' && (
        <H5Return
          checked={data ? data.checkedAt !== null && data.checkedAt >= h5.returnedAt : h5.checked !== null}
          copy={c}
          checkHref={`/pay/${encodeURIComponent(props.id)}?from=h5&check=1`}
          onCheck={() => void mutate()}
          payAgain={{ action: payAgainSessionForm, fields: { sessionId: props.id } }}
        />
      )}
      {status === 'expired' && <p className="error" data-testid="session-expired">{c.sessionExpired}</p>}
      {status === 'closed' && <p className="error" data-testid="session-closed">{c.sessionClosed}</p>}
      {paid && props.successRedirect && (
        <p>
          <a href={props.successRedirect} data-testid="success-link">{c.backToMerchant}</a>
        </p>
      )}
    </div>
  );
}
