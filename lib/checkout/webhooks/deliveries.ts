import { getDb, nowIso } from '../../db';
import { newId, ORDER_ID_RE } from '../kernel';
import { ENDPOINT_ID_RE } from './endpoints';
import type { WebhookApiError, WebhookAttemptView, WebhookDeliveryView, WebhookResult } from './types';
import { kickDeliverer } from './wake';

/** Delivery ids as newId makes them; anything else is not looked up. */
export const DELIVERY_ID_RE = /^whd_[0-9a-f]{20}$/;
/** Newest deliveries listed per endpoint when no limit is given. */
export const DEFAULT_DELIVERY_LIMIT = 50;
/** The most deliveries one list returns (each carries its attempts). */
export const MAX_DELIVERY_LIMIT = 200;

const missing = (what: string, id: string, param = 'id'): { ok: false; error: WebhookApiError } =>
  ({ ok: false, error: { status: 404, code: 'resource_missing', message: `no ${what} ${id}`, param } });

async function deliveriesWhere(filter: { endpointId?: string; orderId?: string; ids?: string[] }, limit: number): Promise<WebhookDeliveryView[]> {
  const db = await getDb();
  let q = db.selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .innerJoin('webhook_endpoints as w', 'w.id', 'd.endpoint_id')
    .select([
      'd.id', 'd.event_id', 'e.type as event_type', 'd.endpoint_id', 'w.url', 'e.order_id', 'd.status', 'd.attempts', 'd.next_at',
      'd.last_status', 'd.last_error', 'd.last_response_head', 'd.resend_of', 'd.created_at', 'd.updated_at',
    ]);
  if (filter.endpointId) q = q.where('d.endpoint_id', '=', filter.endpointId);
  if (filter.orderId) q = q.where('e.order_id', '=', filter.orderId);
  if (filter.ids) q = q.where('d.id', 'in', filter.ids);
  const rows = await q.orderBy('d.created_at', 'desc').orderBy('d.id', 'desc').limit(limit).execute();
  if (rows.length === 0) return [];
  const attempts = await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', rows.map((r) => r.id)).orderBy('at').orderBy('attempt_no').execute();
  const log = new Map<string, WebhookAttemptView[]>();
  for (const a of attempts) {
    const list = log.get(a.delivery_id) ?? [];
    list.push({ attempt: a.attempt_no, at: a.at, status: a.status_code, error: a.error, response_head: a.response_head, duration_ms: a.duration_ms });
    log.set(a.delivery_id, list);
  }
  return rows.map((r) => ({ ...r, attempts: Number(r.attempts), attempt_log: log.get(r.id) ?? [] }));
}

/** Clamps a `limit` query value: absent -> the default, else an integer from 1 to MAX_DELIVERY_LIMIT. */
export function parseDeliveryLimit(raw: string | null): WebhookResult<number> {
  if (raw === null || raw === '') return { ok: true, value: DEFAULT_DELIVERY_LIMIT };
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_DELIVERY_LIMIT) {
    return { ok: false, error: { status: 400, code: 'parameter_invalid', message: `limit must be an integer from 1 to ${MAX_DELIVERY_LIMIT}`, param: 'limit' } };
  }
  return { ok: true, value: n };
}

/** An endpoint's deliveries, newest first, each with its attempts. Deleted endpoints keep their history. */
export async function listEndpointDeliveries(endpointId: string, limit: number = DEFAULT_DELIVERY_LIMIT): Promise<WebhookResult<WebhookDeliveryView[]>> {
  if (!ENDPOINT_ID_RE.test(endpointId)) return missing('webhook endpoint', endpointId);
  const db = await getDb();
  const ep = await db.selectFrom('webhook_endpoints').select('id').where('id', '=', endpointId).executeTakeFirst();
  if (!ep) return missing('webhook endpoint', endpointId);
  return { ok: true, value: await deliveriesWhere({ endpointId }, limit) };
}

/** Every delivery of the events about one order, newest first (an unknown order simply has none). */
export async function listOrderDeliveries(orderId: string, limit: number = MAX_DELIVERY_LIMIT): Promise<WebhookResult<WebhookDeliveryView[]>> {
  if (!ORDER_ID_RE.test(orderId)) return missing('order', orderId);
  return { ok: true, value: await deliveriesWhere({ orderId }, limit) };
}

/** One delivery with its attempts. */
export async function getDelivery(id: string): Promise<WebhookResult<WebhookDeliveryView>> {
  if (!DELIVERY_ID_RE.test(id)) return missing('webhook delivery', id);
  const [d] = await deliveriesWhere({ ids: [id] }, 1);
  return d ? { ok: true, value: d } : missing('webhook delivery', id);
}

/**
 * Resend: the SAME event (same id, same body, so the receiver can deduplicate on webhook-id) to the
 * same endpoint, now. A delivery still pending is made due now (`created: false`): a second copy would
 * race its own retries. A delivered or failed one gets a new delivery with a fresh retry schedule
 * (`created: true`, `resend_of` = the original), so the original keeps its history. Refused for a
 * deleted endpoint.
 */
export async function resendDelivery(id: string): Promise<WebhookResult<{ delivery: WebhookDeliveryView; created: boolean }>> {
  if (!DELIVERY_ID_RE.test(id)) return missing('webhook delivery', id);
  const db = await getDb();
  const d = await db.selectFrom('webhook_deliveries as d').innerJoin('webhook_endpoints as w', 'w.id', 'd.endpoint_id')
    .select(['d.id', 'd.event_id', 'd.endpoint_id', 'd.status', 'w.disabled_at']).where('d.id', '=', id).executeTakeFirst();
  if (!d) return missing('webhook delivery', id);
  if (d.disabled_at) return { ok: false, error: { status: 409, code: 'endpoint_deleted', message: `webhook endpoint ${d.endpoint_id} was deleted; nothing is sent to it`, param: 'id' } };
  const now = nowIso();
  let target = id;
  let created = false;
  const rescheduled = d.status === 'pending'
    ? Number((await db.updateTable('webhook_deliveries').set({ next_at: now, updated_at: now }).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst()).numUpdatedRows) > 0
    : false;
  if (!rescheduled) {
    target = newId('whd');
    created = true;
    await db.insertInto('webhook_deliveries').values({
      id: target, event_id: d.event_id, endpoint_id: d.endpoint_id, status: 'pending', attempts: 0, next_at: now, locked_until: null, claimed_by: null,
      last_status: null, last_error: null, last_response_head: null, resend_of: id, created_at: now, updated_at: now,
    }).execute();
  }
  kickDeliverer();
  const view = await getDelivery(target);
  return view.ok ? { ok: true, value: { delivery: view.value, created } } : view;
}
