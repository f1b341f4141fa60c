import { type ApiReply, errorReply } from '@/lib/checkout/developers';
import type { ApiRequest } from '@/lib/checkout/sessions';
import { readCappedBody } from './body';

/*
 * The sessions API at the edge: the route reads the headers and the capped body into plain values,
 * lib/checkout/sessions answers an ApiReply, and this writes it as JSON that no cache keeps.
 */

/** Request bodies of the API are small JSON objects; anything bigger is refused unread. */
const API_BODY_MAX = 64 * 1024;

/** An ApiReply as an HTTP response. */
export function apiResponse(r: ApiReply): Response {
  return Response.json(r.body, { status: r.status, headers: { 'Cache-Control': 'no-store', ...r.headers } });
}

/** The plain values an API use case needs from the request, or the 400 for a body that cannot be read. */
export async function apiRequest(req: Request, opts: { id?: string; withBody?: boolean } = {}): Promise<ApiRequest | Response> {
  const out: ApiRequest = {
    authorization: req.headers.get('authorization'),
    idempotencyKey: req.headers.get('idempotency-key'),
    id: opts.id,
    query: Object.fromEntries(new URL(req.url).searchParams),
  };
  if (opts.withBody) {
    const body = await readCappedBody(req, API_BODY_MAX);
    if (!body.ok) return apiResponse(errorReply({ status: 400, code: 'body_unreadable', message: body.detail }));
    out.body = body.text;
  }
  return out;
}
