'use client';

import { useActionState } from 'react';
import type { ActionResult } from '../_components/types';
import { createProductAction, setProductActiveAction, updateProductAction } from './actions';

export type ProductLabels = { sku: string; name: string; description: string; price: string; add: string; save: string; activate: string; deactivate: string };

function Result({ state }: { state: ActionResult | null }) {
  if (!state) return null;
  return <p className={state.ok ? 'muted' : 'error'} role={state.ok ? 'status' : 'alert'} data-testid="product-result" data-ok={String(state.ok)}>{state.message}</p>;
}

const grid = { display: 'grid', gap: 8, gridTemplateColumns: 'repeat(auto-fit, minmax(160px, 1fr))', alignItems: 'end' } as const;

export function AddProductForm({ labels }: { labels: ProductLabels }) {
  const [state, action, pending] = useActionState(createProductAction, null);
  return (
    <form action={action} data-testid="add-product">
      <div style={grid}>
        <label>{labels.sku}<input name="sku" required pattern="[A-Za-z0-9_\-]{1,64}" data-testid="new-sku" style={{ width: '100%' }} /></label>
        <label>{labels.name}<input name="name" required data-testid="new-name" style={{ width: '100%' }} /></label>
        <label>{labels.price}<input name="price" required inputMode="decimal" data-testid="new-price" style={{ width: '100%' }} /></label>
        <label>{labels.description}<input name="description" data-testid="new-description" style={{ width: '100%' }} /></label>
        <button type="submit" className="btn" disabled={pending} data-testid="new-submit">{labels.add}</button>
      </div>
      <Result state={state} />
    </form>
  );
}

export function EditProductForm({ sku, name, description, priceYuan, active, labels }: {
  sku: string; name: string; description: string; priceYuan: string; active: boolean; labels: ProductLabels;
}) {
  const [state, action, pending] = useActionState(updateProductAction.bind(null, sku), null);
  const [toggleState, toggle, toggling] = useActionState(setProductActiveAction.bind(null, sku, !active), null);
  return (
    <div>
      <form action={action} data-testid="edit-product">
        <div style={grid}>
          <label>{labels.name}<input name="name" defaultValue={name} required style={{ width: '100%' }} data-testid="edit-name" /></label>
          <label>{labels.price}<input name="price" defaultValue={priceYuan} required inputMode="decimal" style={{ width: '100%' }} data-testid="edit-price" /></label>
          <label>{labels.description}<input name="description" defaultValue={description} style={{ width: '100%' }} /></label>
          <button type="submit" className="btn secondary" disabled={pending} data-testid="edit-submit">{labels.save}</button>
        </div>
      </form>
      <form action={toggle} style={{ marginTop: 8 }}>
        <button type="submit" className={active ? 'btn secondary' : 'btn'} disabled={toggling} data-testid="toggle-active">{active ? labels.deactivate : labels.activate}</button>
      </form>
      <Result state={state} />
      <Result state={toggleState} />
    </div>
  );
}
