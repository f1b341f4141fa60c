'use client';
import { useEffect, useState } from 'react';
import type { CheckoutCopy } from '@/app/_components/checkout-copy';
import { useOrderStatus } from '@/app/_components/use-order-status';
import { formatChinaTime } from '@/lib/china-time';

function mmss(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * The Native-pay QR (an SVG string the server rendered), the amount, a countdown to the attempt's
 * expiry and the order's live status. The expiry follows the server's answer on every poll, so an
 * attempt the server already considers dead shows as expired here too.
 *
 * Rendered on the server after a form submit without JavaScript (`scripted` false), nothing here ticks
 * or polls: the page shows the expiry as a China time instead of a countdown, and a link to a page that
 * tells, server-rendered, whether the payment arrived.
 */
export function NativeQr(props: {
  orderId: string;
  qrSvg: string;
  expiresAt: string;
  amountText: string;
  copy: CheckoutCopy;
  busy: boolean;
  onRefresh: () => void;
  /** Hydrated: the countdown and live status run. */
  scripted: boolean;
  /** Where a buyer without JavaScript checks the payment (the order page, or a session's pay page). */
  statusHref: string;
}) {
  const { copy: c } = props;
  const { data } = useOrderStatus(props.orderId);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const status = data?.status ?? 'pending';
  // A poll that found no open attempt at all also means this QR is dead (closed by the reconciler).
  const expiresAt = data ? (data.expiresAt ?? (status === 'pending' ? new Date(0).toISOString() : props.expiresAt)) : props.expiresAt;
  const left = Date.parse(expiresAt) - now;
  const expired = (status === 'pending' && left <= 0) || status === 'closed';
  const paid = status === 'paid' || status === 'partially_refunded' || status === 'refunded';

  return (
    <div className="card" data-testid="native-pay">
      <div data-testid="order-status" data-status={status} className={`badge ${status}`}>
        {c.status[status] ?? status}
      </div>
      {paid ? (
        <p>
          {c.paidThanks} <a href={`/orders/${props.orderId}`}>{c.viewOrder}</a>
        </p>
      ) : expired ? (
        <div>
          <p className="error" data-testid="qr-expired">{c.expired}</p>
          <button className="btn" data-testid="refresh-qr" disabled={props.busy} onClick={props.onRefresh}>
            {c.refreshQr}
          </button>
        </div>
      ) : (
        <div>
          <p>{c.scanToPay}</p>
          <div data-testid="pay-qr" style={{ width: 240, height: 240 }} dangerouslySetInnerHTML={{ __html: props.qrSvg }} />
          <p className="price" data-testid="pay-amount">¥{props.amountText}</p>
          {props.scripted ? (
            <p className="muted">
              {c.expiresIn} <span data-testid="qr-countdown">{mmss(left)}</span>
            </p>
          ) : (
            <>
              <p className="muted">
                {c.expiresAt} <span data-testid="qr-expires-at">{formatChinaTime(props.expiresAt)}</span> ({c.chinaTime})
              </p>
              <p>
                <a data-testid="check-payment" href={props.statusHref}>{c.checkPayment}</a>
              </p>
            </>
          )}
        </div>
      )}
    </div>
  );
}
