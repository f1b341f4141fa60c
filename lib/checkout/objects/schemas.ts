import { z } from 'zod';
import type { RefundObject } from './refund';
import { SESSION_STATUSES, type SessionObject } from './session';

/*
 * The public objects as zod schemas: what the OpenAPI document (lib/checkout/sessions/openapi.ts)
 * publishes for responses. The compile-time checks at the bottom keep them equal to the TypeScript
 * shapes sessionObject and refundObject return, so the document cannot drift from the answers.
 */

const isoTime = z.string().meta({ description: 'ISO-8601 UTC time', example: '2026-11-22T12:00:00.000Z' });

/** A checkout session (docs/api.md). */
export const SessionObjectSchema = z.object({
  id: z.string().meta({ description: 'cs_... (orders made before sessions existed keep their o_... id)', example: 'cs_4mBq0x9cTQe3uUoYy3bGJk8Vb2' }),
  url: z.string().meta({ description: 'PUBLIC_BASE_URL/pay/{id}: send the buyer here' }),
  status: z.enum(SESSION_STATUSES as [string, ...string[]]),
  amount_fen: z.number().int().meta({ description: 'Amount in fen (1 yuan = 100 fen)' }),
  amount_refunded_fen: z.number().int().meta({ description: 'Fen refunded and delivered to the buyer' }),
  description: z.string(),
  merchant_reference: z.string().nullable().meta({ description: 'Your order id; null for a shop-link purchase' }),
  metadata: z.record(z.string(), z.string()),
  success_url: z.string().nullable(),
  expires_at: isoTime.nullable(),
  created_at: isoTime,
  paid_at: isoTime.nullable(),
  transaction_id: z.string().nullable().meta({ description: "WeChat Pay's transaction_id once paid" }),
  payer_openid: z.string().nullable().meta({ description: "The payer's openid under the official account, once paid" }),
  livemode: z.boolean(),
});

/** A refund (docs/api.md). */
export const RefundObjectSchema = z.object({
  id: z.string().meta({ description: 'The out_refund_no WeChat knows the refund by' }),
  session_id: z.string(),
  amount_fen: z.number().int(),
  status: z.enum(['processing', 'succeeded', 'failed']),
  reason: z.string(),
  failure_reason: z.string().nullable(),
  created_at: isoTime,
});

/** Every API error: `{"error": {"code", "message", "param"?}}`. */
export const ErrorEnvelopeSchema = z.object({
  error: z.object({
    code: z.string().meta({ example: 'parameter_invalid' }),
    message: z.string(),
    param: z.string().optional().meta({ description: 'The request field at fault, when one is' }),
  }),
});

/** The list answer: newest first, `has_more` when another page follows the last item. */
export const SessionListSchema = z.object({
  data: z.array(SessionObjectSchema),
  has_more: z.boolean(),
});

// Compile-time equality of the schemas and the shapes the code returns (a mismatch fails `tsc`).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sessionsMatch: Same<Omit<z.infer<typeof SessionObjectSchema>, 'status'>, Omit<SessionObject, 'status'>> = true;
const refundsMatch: Same<z.infer<typeof RefundObjectSchema>, RefundObject> = true;
void sessionsMatch;
void refundsMatch;
