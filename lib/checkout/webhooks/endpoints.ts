import { randomBytes } from 'node:crypto';
import { getConfig, type WechatMode } from '../../config';
import { getDb, nowIso } from '../../db';
import type { WebhookEndpointsTable } from '../../db/schema';
import { newId, writeTransaction } from '../kernel';
import { isWebhookEventType, WEBHOOK_EVENT_TYPES, type WebhookApiError, type WebhookEndpointView, type WebhookEventType, type WebhookResult } from './types';
import { hostForbidden, bareHost, type Resolver, systemResolver } from './url-guard';

/** Live endpoints at once: every event is written once per endpoint, so this bounds the fan-out. */
export const MAX_ENDPOINTS = 20;
/** Longer URLs are refused: nobody needs one, and it is stored and shown on every delivery. */
export const MAX_URL_LENGTH = 2048;
/** Endpoint ids as newId makes them; anything else is not looked up. */
export const ENDPOINT_ID_RE = /^we_[0-9a-f]{20}$/;

/** An endpoint with its secret: the answer to create and roll, the only time the secret is shown. */
export type WebhookEndpointWithSecret = WebhookEndpointView & { secret: string };

const bad = (code: string, message: string, param: string | null, status: WebhookApiError['status'] = 400): { ok: false; error: WebhookApiError } =>
  ({ ok: false, error: { status, code, message, param } });

/**
 * A new signing secret: `whsec_` + base64 of 32 random bytes, the Standard Webhooks format every
 * language's library reads (the prefix is stripped and the rest base64-decoded into the HMAC key).
 */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function view(row: Pick<WebhookEndpointsTable, 'id' | 'url' | 'events' | 'created_at'>): WebhookEndpointView {
  let events: WebhookEventType[] = [];
  try {
    const parsed = JSON.parse(row.events) as unknown;
    if (Array.isArray(parsed)) events = parsed.filter(isWebhookEventType);
  } catch {
    /* stored by createEndpoint, always JSON */
  }
  return { id: row.id, url: row.url, events, created_at: row.created_at };
}

/**
 * Checks a webhook URL: http(s), no credentials or fragment, at most MAX_URL_LENGTH. Live mode: https
 * only, and the host must not be or resolve to a loopback, private, link-local, unique-local or
 * unspecified address (url-guard.ts; checked again at every delivery). Sandbox mode allows localhost
 * and private addresses, for a developer's receiver.
 */
export async function checkWebhookUrl(raw: unknown, mode: WechatMode, resolve: Resolver = systemResolver): Promise<WebhookResult<string>> {
  if (raw === undefined || raw === null || raw === '') return bad('parameter_missing', 'url is required', 'url');
  if (typeof raw !== 'string') return bad('parameter_invalid', 'url must be a string', 'url');
  if (raw.length > MAX_URL_LENGTH) return bad('parameter_invalid', `url must be at most ${MAX_URL_LENGTH} characters`, 'url');
  if (/\s/.test(raw)) return bad('parameter_invalid', 'url must not contain spaces', 'url');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return bad('parameter_invalid', 'url must be an absolute http(s) URL', 'url');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return bad('parameter_invalid', `url must be http or https, got ${u.protocol.replace(/:$/, '')}`, 'url');
  if (u.username || u.password) return bad('parameter_invalid', 'url must not carry a user name or password (they would be shown on every delivery)', 'url');
  if (u.hash) return bad('parameter_invalid', 'url must not have a #fragment (it is never sent)', 'url');
  if (mode === 'live') {
    if (u.protocol !== 'https:') return bad('parameter_invalid', 'url must be https in live mode', 'url');
    const why = await hostForbidden(bareHost(u), resolve);
    if (why) return bad('url_forbidden', `url is refused in live mode: ${why}. Webhooks go to public addresses only`, 'url');
  }
  return { ok: true, value: u.toString() };
}

/** Checks `events`: absent or [] = every type, else an array of known types (duplicates folded). */
export function checkEventTypes(raw: unknown): WebhookResult<WebhookEventType[]> {
  if (raw === undefined || raw === null) return { ok: true, value: [] };
  if (!Array.isArray(raw)) return bad('parameter_invalid', 'events must be an array of event types', 'events');
  const unknown = raw.find((t) => !isWebhookEventType(t));
  if (unknown !== undefined) return bad('parameter_invalid', `events: unknown event type ${JSON.stringify(unknown)}; known: ${WEBHOOK_EVENT_TYPES.join(', ')}`, 'events');
  return { ok: true, value: [...new Set(raw as WebhookEventType[])] };
}

/**
 * POST /api/merchant/webhook-endpoints: `{url, events?}` -> the endpoint with its new secret (shown
 * this once). Any other field is refused by name, so a typo never silently subscribes to everything.
 */
export async function createEndpoint(input: unknown, resolve?: Resolver): Promise<WebhookResult<WebhookEndpointWithSecret>> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return bad('invalid_request', 'the body must be a JSON object {"url": ..., "events": [...]}', null);
  const fields = input as Record<string, unknown>;
  const extra = Object.keys(fields).find((k) => k !== 'url' && k !== 'events');
  if (extra !== undefined) return bad('parameter_unknown', `unknown field ${JSON.stringify(extra)}: only url and events are accepted`, extra);
  const url = await checkWebhookUrl(fields.url, getConfig().mode, resolve);
  if (!url.ok) return url;
  const events = checkEventTypes(fields.events);
  if (!events.ok) return events;
  const now = nowIso();
  const row = { id: newId('we'), url: url.value, events: JSON.stringify(events.value), secret: newWebhookSecret(), created_at: now, updated_at: now, disabled_at: null };
  const created = await writeTransaction(async (trx) => {
    const n = await trx.selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<number>().as('n')).where('disabled_at', 'is', null).executeTakeFirstOrThrow();
    if (Number(n.n) >= MAX_ENDPOINTS) return false;
    await trx.insertInto('webhook_endpoints').values(row).execute();
    return true;
  });
  if (!created) return bad('limit_exceeded', `at most ${MAX_ENDPOINTS} webhook endpoints; delete one first`, null);
  return { ok: true, value: { ...view(row), secret: row.secret } };
}

/** Live endpoints, oldest first, without secrets. */
export async function listEndpoints(): Promise<WebhookEndpointView[]> {
  const db = await getDb();
  const rows = await db.selectFrom('webhook_endpoints').select(['id', 'url', 'events', 'created_at']).where('disabled_at', 'is', null).orderBy('created_at').orderBy('id').execute();
  return rows.map(view);
}

async function liveRow(id: string) {
  if (!ENDPOINT_ID_RE.test(id)) return undefined;
  const db = await getDb();
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).where('disabled_at', 'is', null).executeTakeFirst();
}

const missing = (id: string) => bad('resource_missing', `no webhook endpoint ${id}`, 'id', 404);

/** One live endpoint without its secret. */
export async function getEndpoint(id: string): Promise<WebhookResult<WebhookEndpointView>> {
  const row = await liveRow(id);
  return row ? { ok: true, value: view(row) } : missing(id);
}

/**
 * Deletes an endpoint: no new event is written for it, and its pending deliveries stop (failed,
 * "endpoint deleted"). The row stays, disabled, so past deliveries keep their history.
 */
export async function deleteEndpoint(id: string): Promise<WebhookResult<{ id: string; deleted: true }>> {
  if (!ENDPOINT_ID_RE.test(id)) return missing(id);
  const now = nowIso();
  const done = await writeTransaction(async (trx) => {
    const r = await trx.updateTable('webhook_endpoints').set({ disabled_at: now, updated_at: now }).where('id', '=', id).where('disabled_at', 'is', null).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return false;
    await trx.updateTable('webhook_deliveries').set({ status: 'failed', next_at: null, last_error: 'endpoint deleted', updated_at: now })
      .where('endpoint_id', '=', id).where('status', '=', 'pending').execute();
    return true;
  });
  return done ? { ok: true, value: { id, deleted: true } } : missing(id);
}

/**
 * Rolls the signing secret: a new one, shown this once, and the old one stops at once. Every attempt
 * from now on (retries of earlier events too) is signed with the new secret; there is no overlap, so
 * the receiver must be given the new secret before or right after rolling.
 */
export async function rollEndpointSecret(id: string): Promise<WebhookResult<WebhookEndpointWithSecret>> {
  if (!ENDPOINT_ID_RE.test(id)) return missing(id);
  const secret = newWebhookSecret();
  const db = await getDb();
  const r = await db.updateTable('webhook_endpoints').set({ secret, updated_at: nowIso() }).where('id', '=', id).where('disabled_at', 'is', null).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return missing(id);
  const row = await liveRow(id);
  return row ? { ok: true, value: { ...view(row), secret } } : missing(id);
}
