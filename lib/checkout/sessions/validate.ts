import type { z } from 'zod';
import type { ApiError } from '../developers';

/** The value at `path` inside the raw input, to tell a missing parameter from a bad one. */
function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v = input;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/**
 * Validates a request with its schema. The first problem becomes a 400 naming the field (`param`, dotted
 * for nested fields: `metadata.order_note`): parameter_missing, parameter_unknown or parameter_invalid,
 * Stripe's codes. Nothing is written before this passes.
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown): { ok: true; value: z.output<S> } | { ok: false; error: ApiError } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, error: { status: 400, code: 'invalid_json', message: 'the request body must be a JSON object' } };
  }
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const param = [...issue.path, issue.keys[0]].map(String).join('.');
    return { ok: false, error: { status: 400, code: 'parameter_unknown', message: `unknown parameter: ${param}`, param } };
  }
  const param = issue.path.map(String).join('.');
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
    return { ok: false, error: { status: 400, code: 'parameter_missing', message: `missing required parameter: ${param}`, param } };
  }
  const message = issue.code === 'invalid_type' ? `must be a ${issue.expected}` : issue.message;
  return { ok: false, error: { status: 400, code: 'parameter_invalid', message: `${param}: ${message}`, param } };
}
