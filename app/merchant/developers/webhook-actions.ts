'use server';

import { revalidatePath } from 'next/cache';
import { isMerchant } from '@/app/_http/merchant-session';
import { createEndpoint, deleteEndpoint, resendDelivery, rollEndpointSecret } from '@/lib/checkout/webhooks';
import { requestLocale } from '../../_components/locale';
import type { ActionResult } from '../_components/types';
import { webhooksCopy } from './webhooks-copy';

/** A server action's answer; `secret` only right after an endpoint was added or its secret rolled. */
export type WebhookActionResult = ActionResult & { secret?: string };

const DENIED: WebhookActionResult = { ok: false, code: 'UNAUTHORIZED', message: 'merchant login required' };

function refresh(orderId?: string) {
  revalidatePath('/merchant/developers');
  if (orderId) revalidatePath(`/merchant/orders/${encodeURIComponent(orderId)}`);
}

/** Adds an endpoint from the form's url and checked events; the answer carries the new secret. */
export async function createEndpointAction(_prev: WebhookActionResult | null, form: FormData): Promise<WebhookActionResult> {
  if (!(await isMerchant())) return DENIED;
  const t = webhooksCopy(await requestLocale());
  const r = await createEndpoint({ url: String(form.get('url') ?? ''), events: form.getAll('events').map(String) });
  if (!r.ok) return { ok: false, code: r.error.code, message: r.error.message };
  refresh();
  return { ok: true, message: `${t.added} ${r.value.id}`, secret: r.value.secret };
}

/** Rolls an endpoint's secret; the answer carries the new one. */
export async function rollSecretAction(id: string, _prev: WebhookActionResult | null, _form: FormData): Promise<WebhookActionResult> {
  if (!(await isMerchant())) return DENIED;
  const t = webhooksCopy(await requestLocale());
  const r = await rollEndpointSecret(String(id));
  if (!r.ok) return { ok: false, code: r.error.code, message: r.error.message };
  refresh();
  return { ok: true, message: t.rolled, secret: r.value.secret };
}

/** Deletes an endpoint. */
export async function deleteEndpointAction(id: string, _prev: WebhookActionResult | null, _form: FormData): Promise<WebhookActionResult> {
  if (!(await isMerchant())) return DENIED;
  const t = webhooksCopy(await requestLocale());
  const r = await deleteEndpoint(String(id));
  if (!r.ok) return { ok: false, code: r.error.code, message: r.error.message };
  refresh();
  return { ok: true, message: t.deleted };
}

/** Resend of one delivery (same event id); `orderId` refreshes the order page it was pressed on. */
export async function resendDeliveryAction(id: string, orderId: string | null, _prev: WebhookActionResult | null, _form: FormData): Promise<WebhookActionResult> {
  if (!(await isMerchant())) return DENIED;
  const t = webhooksCopy(await requestLocale());
  const r = await resendDelivery(String(id));
  if (!r.ok) return { ok: false, code: r.error.code, message: r.error.message };
  refresh(orderId ?? undefined);
  return { ok: true, message: `${t.resent}: ${r.value.delivery.id}` };
}
