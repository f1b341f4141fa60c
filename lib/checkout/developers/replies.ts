/*
 * The API's answers as plain values: lib/checkout decides the status and the JSON, app/ writes them
 * (app/_http/api.ts). Errors always have the envelope {"error": {"code", "message", "param"?}}.
 */

/** An API error: the HTTP status, a stable snake_case code, a message for people, and the field at fault. */
export interface ApiError {
  status: 400 | 401 | 404 | 409 | 422 | 429 | 500 | 502;
  code: string;
  message: string;
  param?: string;
}

/** One API answer: status, JSON body and extra headers (Idempotent-Replayed, Retry-After). */
export interface ApiReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** The envelope of an ApiError. */
export function errorReply(e: ApiError, headers?: Record<string, string>): ApiReply {
  const error: { code: string; message: string; param?: string } = { code: e.code, message: e.message };
  if (e.param !== undefined) error.param = e.param;
  return { status: e.status, body: { error }, headers };
}

/** A JSON request body parsed, or the 400 that says it is not JSON. An empty body reads as {}. */
export function parseJsonBody(text: string | undefined): { ok: true; value: unknown } | { ok: false; error: ApiError } {
  if (text === undefined || text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, error: { status: 400, code: 'invalid_json', message: 'the request body must be a JSON object' } };
  }
}
