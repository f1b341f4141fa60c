'use client';

import { useRouter } from 'next/navigation';
import { useActionState, useEffect } from 'react';
import type { ActionResult } from '../../_components/types';
import { closeOrderAction, refundAction, syncOrderAction } from './actions';

type Labels = {
  sync: string; close: string; refund: string; refundAmount: string; refundReason: string; defaultReason: string;
  confirmClose: string; noRefundable: string;
};

function Result({ state, testId }: { state: ActionResult | null; testId: string }) {
  if (!state) return null;
  return (
    <p className={state.ok ? 'muted' : 'error'} role={state.ok ? 'status' : 'alert'} data-testid={testId} data-ok={String(state.ok)} data-code={state.ok ? undefined : state.code}>
      {state.message}
    </p>
  );
}

export function OrderActions({ orderId, canClose, refundableYuan, refundBlocker, labels }: {
  orderId: string; canClose: boolean; refundableYuan: string | null; refundBlocker: string | null; labels: Labels;
}) {
  const [syncState, sync, syncing] = useActionState(syncOrderAction.bind(null, orderId), null);
  const [closeState, close, closing] = useActionState(closeOrderAction.bind(null, orderId), null);
  const [refundState, refund, refunding] = useActionState(refundAction.bind(null, orderId), null);
  return (
    <section className="card" style={{ display: 'grid', gap: 12 }}>
      <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap' }}>
        <form action={sync}>
          <button type="submit" className="btn secondary" disabled={syncing} data-testid="sync-order">{labels.sync}</button>
        </form>
        {canClose && (
          <form action={close} onSubmit={(e) => { if (!window.confirm(labels.confirmClose)) e.preventDefault(); }}>
            <button type="submit" className="btn secondary" disabled={closing} data-testid="close-order">{labels.close}</button>
          </form>
        )}
      </div>
      <Result state={syncState} testId="sync-result" />
      <Result state={closeState} testId="close-result" />
      {refundableYuan !== null ? (
        <form action={refund} style={{ display: 'flex', gap: 8, flexWrap: 'wrap', alignItems: 'end' }} data-testid="refund-form">
          <label style={{ display: 'grid', gap: 4 }}>
            {labels.refundAmount}
            {/* key: a new prefill (what is left) after each refund replaces the typed value */}
            <input key={refundableYuan} name="amount" inputMode="decimal" defaultValue={refundableYuan} data-testid="refund-amount" style={{ width: 120 }} />
          </label>
          <label style={{ display: 'grid', gap: 4, flex: '1 1 200px' }}>
            {labels.refundReason}
            <input name="reason" defaultValue={labels.defaultReason} maxLength={80} data-testid="refund-reason" />
          </label>
          <button type="submit" className="btn" disabled={refunding} data-testid="refund-submit">{labels.refund}</button>
        </form>
      ) : (
        <p className="muted">{labels.noRefundable}</p>
      )}
      {refundBlocker && <p className="error" data-testid="refund-blocker">{refundBlocker}</p>}
      <Result state={refundState} testId="refund-result" />
    </section>
  );
}

/** Re-renders the page from the server every few seconds while something is still in flight. */
export function AutoRefresh({ active, ms = 2000 }: { active: boolean; ms?: number }) {
  const router = useRouter();
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => router.refresh(), ms);
    return () => clearInterval(t);
  }, [active, ms, router]);
  return null;
}
