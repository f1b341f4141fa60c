'use client';

import { useActionState } from 'react';
import { createEndpointAction, deleteEndpointAction, resendDeliveryAction, rollSecretAction, type WebhookActionResult } from './webhook-actions';
import type { WebhooksCopy } from './webhooks-copy';

/** The outcome of an action; a secret (add, roll) is shown in full, selectable, this once. */
function Result({ state, testId, secretNote }: { state: WebhookActionResult | null; testId: string; secretNote?: string }) {
  if (!state) return null;
  return (
    <div role={state.ok ? 'status' : 'alert'} data-testid={testId} data-ok={String(state.ok)} data-code={state.ok ? undefined : state.code}>
      <p className={state.ok ? 'muted' : 'error'} style={{ margin: '6px 0' }}>{state.message}</p>
      {state.ok && state.secret && (
        <p style={{ background: '#fff4e0', padding: 8, borderRadius: 6, margin: '6px 0', wordBreak: 'break-all' }}>
          {secretNote} <code data-testid="webhook-secret">{state.secret}</code>
        </p>
      )}
    </div>
  );
}

/** URL and event checkboxes; none checked subscribes to every event. */
export function AddEndpointForm({ t, eventTypes }: { t: WebhooksCopy; eventTypes: readonly string[] }) {
  const [state, action, pending] = useActionState(createEndpointAction, null);
  return (
    <form action={action} data-testid="webhook-add-form" style={{ display: 'grid', gap: 8 }}>
      <label style={{ display: 'grid', gap: 4 }}>
        {t.url}
        <input name="url" type="url" required maxLength={2048} placeholder="https://example.com/webhooks/wechat-checkout" data-testid="webhook-url" />
      </label>
      <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
        <legend className="muted">{t.events}</legend>
        <div style={{ display: 'flex', flexWrap: 'wrap', gap: 12 }}>
          {eventTypes.map((e) => (
            <label key={e} style={{ fontSize: 14 }}><input type="checkbox" name="events" value={e} data-testid="webhook-event" /> <code>{e}</code></label>
          ))}
        </div>
      </fieldset>
      <div><button type="submit" className="btn" disabled={pending} data-testid="webhook-add-submit">{t.add}</button></div>
      <Result state={state} testId="webhook-result" secretNote={t.secretOnce} />
    </form>
  );
}

/** Roll secret and Delete for one endpoint, each confirmed first. */
export function EndpointButtons({ id, t }: { id: string; t: WebhooksCopy }) {
  const [rollState, roll, rolling] = useActionState(rollSecretAction.bind(null, id), null);
  const [delState, del, deleting] = useActionState(deleteEndpointAction.bind(null, id), null);
  return (
    <div>
      <div style={{ display: 'flex', gap: 8 }}>
        <form action={roll} onSubmit={(e) => { if (!window.confirm(t.confirmRoll)) e.preventDefault(); }}>
          <button type="submit" className="btn secondary" disabled={rolling} data-testid="webhook-roll-secret" style={{ padding: '6px 12px', fontSize: 14 }}>{t.roll}</button>
        </form>
        <form action={del} onSubmit={(e) => { if (!window.confirm(t.confirmDelete)) e.preventDefault(); }}>
          <button type="submit" className="btn secondary" disabled={deleting} data-testid="webhook-delete" style={{ padding: '6px 12px', fontSize: 14 }}>{t.del}</button>
        </form>
      </div>
      <Result state={rollState} testId="webhook-roll-result" secretNote="" />
      <Result state={delState} testId="webhook-delete-result" />
    </div>
  );
}

/** Resend one delivery (the same event id). */
export function ResendButton({ deliveryId, orderId, label }: { deliveryId: string; orderId: string | null; label: string }) {
  const [state, resend, pending] = useActionState(resendDeliveryAction.bind(null, deliveryId, orderId), null);
  return (
    <form action={resend}>
      <button type="submit" className="btn secondary" disabled={pending} data-testid="webhook-resend" style={{ padding: '4px 10px', fontSize: 13 }}>{label}</button>
      <Result state={state} testId="webhook-resend-result" />
    </form>
  );
}
