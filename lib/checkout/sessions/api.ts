import { authenticateApiKey, type ApiError, type ApiReply, errorReply, parseJsonBody, withIdempotency } from '../developers';
import { refundObject, sessionObject } from '../objects';
import { createSession } from './create';
import { closeSession, refundSession } from './manage';
import { getSessionOrder, listSessionOrders } from './read';
import { CreateRefundBody, CreateSessionBody, ListSessionsQuery } from './schemas';
import { validate } from './validate';

/*
 * The sessions API, one function per route: plain values in (the Authorization and Idempotency-Key
 * header values, the body text, the path id, the query), an ApiReply out for app/ to write. Order of
 * checks: the key (401), the body's JSON (400), the parameters (400, naming the field), then the
 * Idempotency-Key (a replay, or 409/422) and only then anything that writes.
 */

/** What a route handler hands over from the request. */
export interface ApiRequest {
  authorization: string | null;
  idempotencyKey?: string | null;
  /** The body as text (POST). */
  body?: string;
  /** The query string's parameters (GET lists). */
  query?: Record<string, string>;
  /** The {id} path segment. */
  id?: string;
}

const json = (status: number, body: unknown): ApiReply => ({ status, body });
const missing = (id: string): ApiReply => errorReply({ status: 404, code: 'resource_missing', message: `no checkout session ${id}`, param: 'id' });

async function authorized(req: ApiRequest, run: () => Promise<ApiReply>): Promise<ApiReply> {
  const auth = await authenticateApiKey(req.authorization);
  if (!auth.ok) return errorReply(auth.error);
  return run();
}

function body(req: ApiRequest): { ok: true; value: unknown } | { ok: false; error: ApiError } {
  return parseJsonBody(req.body);
}

/** POST /api/v1/checkout/sessions: 201 new session, 200 the existing one for this merchant_reference, 409 another amount. */
export function createSessionCall(req: ApiRequest): Promise<ApiReply> {
  return authorized(req, async () => {
    const parsed = body(req);
    if (!parsed.ok) return errorReply(parsed.error);
    const v = validate(CreateSessionBody, parsed.value);
    if (!v.ok) return errorReply(v.error);
    return withIdempotency(req.idempotencyKey, 'POST /api/v1/checkout/sessions', parsed.value, async () => {
      const r = await createSession(v.value);
      switch (r.kind) {
        case 'created':
          return json(201, sessionObject(r.order));
        case 'existing':
          return json(200, sessionObject(r.order));
        case 'conflict':
          return errorReply({
            status: 409, code: 'merchant_reference_conflict', param: 'merchant_reference',
            message: `merchant_reference ${v.value.merchant_reference} already has session ${r.order.id} for ${r.order.amount_fen} fen; a different amount needs a new merchant_reference`,
          });
        case 'invalid':
          return errorReply({ status: 400, code: 'parameter_invalid', message: r.message, param: r.param });
      }
    });
  });
}

/** GET /api/v1/checkout/sessions/{id}. */
export function getSessionCall(req: ApiRequest): Promise<ApiReply> {
  return authorized(req, async () => {
    const order = await getSessionOrder(req.id ?? '');
    return order ? json(200, sessionObject(order)) : missing(req.id ?? '');
  });
}

/** GET /api/v1/checkout/sessions?merchant_reference=&status=&limit=&starting_after= -> {data, has_more}. */
export function listSessionsCall(req: ApiRequest): Promise<ApiReply> {
  return authorized(req, async () => {
    const v = validate(ListSessionsQuery, req.query ?? {});
    if (!v.ok) return errorReply(v.error);
    const now = Date.now();
    const r = await listSessionOrders(v.value, now);
    if (!r.ok) return errorReply({ status: 400, code: 'resource_missing', message: r.message, param: r.param });
    return json(200, { data: r.orders.map((o) => sessionObject(o, now)), has_more: r.hasMore });
  });
}

/** POST /api/v1/checkout/sessions/{id}/close: the closed (or already closed/expired) session; 409 once paid. */
export function closeSessionCall(req: ApiRequest): Promise<ApiReply> {
  return authorized(req, async () => {
    const id = req.id ?? '';
    if (!(await getSessionOrder(id))) return missing(id);
    return withIdempotency(req.idempotencyKey, `POST /api/v1/checkout/sessions/${id}/close`, {}, async () => {
      const r = await closeSession(id);
      switch (r.kind) {
        case 'closed':
          return json(200, sessionObject(r.order));
        case 'not_found':
          return missing(id);
        case 'paid':
          return errorReply({ status: 409, code: 'session_paid', message: r.message });
        case 'upstream':
          return errorReply({ status: 502, code: 'wechat_unavailable', message: `${r.message}; nothing was closed, try again` });
      }
    });
  });
}

/** POST /api/v1/checkout/sessions/{id}/refunds: 201 refund; Idempotency-Key required (money leaves). */
export function createRefundCall(req: ApiRequest): Promise<ApiReply> {
  return authorized(req, async () => {
    const id = req.id ?? '';
    if (!(await getSessionOrder(id))) return missing(id);
    const parsed = body(req);
    if (!parsed.ok) return errorReply(parsed.error);
    const v = validate(CreateRefundBody, parsed.value);
    if (!v.ok) return errorReply(v.error);
    if (!req.idempotencyKey) {
      return errorReply({ status: 400, code: 'idempotency_key_required', param: 'Idempotency-Key', message: 'refunds need an Idempotency-Key header, so a retried request can never refund twice' });
    }
    return withIdempotency(req.idempotencyKey, `POST /api/v1/checkout/sessions/${id}/refunds`, parsed.value, async () => {
      const r = await refundSession(id, v.value);
      switch (r.kind) {
        case 'refund':
          return json(201, refundObject(r.refund));
        case 'refused':
          return errorReply({ status: r.status, code: r.code, message: r.message, param: r.param });
        case 'upstream':
          return errorReply({ status: 502, code: 'wechat_unavailable', message: r.message });
      }
    });
  });
}
