import type { QueryCreator } from 'kysely';
import { type Database, type DbKind, nowIso, prepareQuery } from '../../db';
import { type DbOrTrx, newId } from '../kernel';
import { isWebhookEventType, type WebhookEventType } from './types';
import { noteEmitted } from './wake';

/** What a state change reports: its type, the public object (a session or a refund) and the order it concerns. */
export interface EmitInput {
  type: WebhookEventType;
  data: { object: Record<string, unknown> };
  /** The order the object belongs to, so the merchant's order page lists its deliveries. */
  orderId?: string | null;
}

/** An event body over this is refused: the object is ours, so this only catches a bug that put a blob in it. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** Endpoints subscribed to `type`: `[]` means every type. A row whose JSON does not parse gets nothing rather than everything. */
function subscribed(eventsJson: string, type: WebhookEventType): boolean {
  try {
    const events = JSON.parse(eventsJson) as unknown;
    return Array.isArray(events) && (events.length === 0 || events.includes(type));
  } catch {
    return false;
  }
}

/** A webhook_events row as emitEvent writes it. */
type WebhookEventRow = { id: string; type: WebhookEventType; payload: string; order_id: string | null; created_at: string };

/** The live endpoints, oldest first: each gets its delivery in that order. */
const live = (q: QueryCreator<Database>) => q.selectFrom('webhook_endpoints').select(['id', 'events']).where('disabled_at', 'is', null).orderBy('created_at');
const eventValues = (r: WebhookEventRow) => ({ id: r.id, type: r.type, payload: r.payload, order_id: r.order_id, created_at: r.created_at });
const insertEvent = prepareQuery((db, r: WebhookEventRow) => db.insertInto('webhook_events').values(eventValues(r)));
const liveEndpoints = prepareQuery((db) => live(db));
// The CTE only adds a table to the query's scope; the SELECT reads the database's own tables.
const insertEventReadEndpoints = prepareQuery((db, r: WebhookEventRow) =>
  live(db.with('inserted', (w) => w.insertInto('webhook_events').values(eventValues(r)).returning('id')) as unknown as QueryCreator<Database>));

/**
 * Writes one webhook event and one pending delivery per live endpoint subscribed to its type, and
 * returns the event id (`evt_...`). Call it with the transaction that makes the state change it
 * reports: it only inserts rows (no network), so the event exists exactly when the change committed,
 * and a rollback takes the event with it. With a plain database handle the rows are written by
 * separate statements. The deliverer of this process is told to look once the transaction commits;
 * other instances find the deliveries on their next poll.
 *
 * The body is fixed here, once: `{id, type, created_at, data: {object}}`, and every delivery and
 * Resend of the event sends these exact bytes. `engine` 'postgres' (inside a PostgreSQL transaction)
 * writes the event and reads the endpoints in one statement; without it, two, on either engine. Bad
 * input (an unknown type, an object that is not a plain JSON object) throws naming the field, before
 * anything is written.
 */
export async function emitEvent(db: DbOrTrx, e: EmitInput, engine?: DbKind): Promise<string> {
  if (!isWebhookEventType(e?.type)) throw new Error(`emitEvent: type must be one of the webhook event types, got ${JSON.stringify(e?.type)}`);
  const object = e.data?.object;
  if (object === null || typeof object !== 'object' || Array.isArray(object)) throw new Error('emitEvent: data.object must be a JSON object');
  if (e.orderId !== undefined && e.orderId !== null && typeof e.orderId !== 'string') throw new Error('emitEvent: orderId must be a string or null');
  const id = newId('evt');
  const createdAt = nowIso();
  const payload = JSON.stringify({ id, type: e.type, created_at: createdAt, data: { object } });
  if (Buffer.byteLength(payload, 'utf8') > MAX_PAYLOAD_BYTES) throw new Error(`emitEvent: data.object is over ${MAX_PAYLOAD_BYTES} bytes as JSON`);

  const event: WebhookEventRow = { id, type: e.type, payload, order_id: e.orderId ?? null, created_at: createdAt };
  // PostgreSQL: the event's insert and the endpoints' read in one statement (a data-modifying CTE runs
  // exactly once, in the same transaction), one round trip instead of two. SQLite has no such CTE, and
  // there a statement is a function call, not a round trip. Both compiled once: every payment runs them.
  let endpoints: Array<{ id: string; events: string }>;
  if (engine === 'postgres') {
    endpoints = (await insertEventReadEndpoints.execute(db, event)).rows;
  } else {
    await insertEvent.execute(db, event);
    endpoints = (await liveEndpoints.execute(db, {})).rows;
  }
  const targets = endpoints.filter((ep) => subscribed(ep.events, e.type));
  if (targets.length > 0) {
    await db.insertInto('webhook_deliveries').values(targets.map((ep) => ({
      id: newId('whd'), event_id: id, endpoint_id: ep.id, status: 'pending' as const, attempts: 0, next_at: createdAt,
      locked_until: null, claimed_by: null, last_status: null, last_error: null, last_response_head: null, resend_of: null,
      created_at: createdAt, updated_at: createdAt,
    }))).execute();
    noteEmitted(id);
  }
  return id;
}
