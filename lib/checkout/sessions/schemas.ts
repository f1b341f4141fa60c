import { z } from 'zod';
import { MIN_ORDER_TTL_MINUTES } from '../../config';
import { BODY_MAX_BYTES } from '../payments';
import { ORDER_ID_RE } from '../kernel';
import { SESSION_STATUSES } from '../objects';

/*
 * The request schemas of the sessions API. The same objects validate every request (./validate.ts)
 * and describe it in the OpenAPI document (./openapi.ts), so the document cannot promise what the
 * server refuses, or the other way round.
 */

/** Shortest payment window: WeChat refuses a time_expire under 5 minutes; one more for clock skew (as ORDER_TTL_MINUTES). */
export const MIN_EXPIRES_MINUTES = MIN_ORDER_TTL_MINUTES;
/** Longest payment window: 7 days, as ORDER_TTL_MINUTES. */
export const MAX_EXPIRES_MINUTES = 7 * 24 * 60;
/** The largest amount: what a PostgreSQL integer column holds (21,474,836.47 yuan). */
export const MAX_AMOUNT_FEN = 2_147_483_647;
/** WeChat's out_trade_no alphabet, so a merchant_reference can be shown or reused wherever WeChat ids go. */
export const MERCHANT_REFERENCE_RE = /^[0-9A-Za-z_\-|*]{1,64}$/;
export const METADATA_MAX_PAIRS = 20;
export const METADATA_KEY_MAX = 40;
export const METADATA_VALUE_MAX = 500;
export const SUCCESS_URL_MAX = 2048;
/** refunds.reason keeps 80 characters (WeChat shows it to the buyer). */
export const REFUND_REASON_MAX = 80;

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

const amountFen = z.number().int('must be a whole number of fen').min(1, 'must be at least 1 fen').max(MAX_AMOUNT_FEN, `must be at most ${MAX_AMOUNT_FEN} fen`);

/** POST /api/v1/checkout/sessions. */
export const CreateSessionBody = z.object({
  amount_fen: amountFen.meta({ description: 'The amount in fen (1 yuan = 100 fen), at least 1', example: 4500 }),
  description: z.string()
    .refine((s) => s.trim().length > 0, 'must not be empty')
    .refine((s) => utf8Bytes(s) <= BODY_MAX_BYTES, `must be at most ${BODY_MAX_BYTES} bytes in UTF-8 (WeChat's body limit; a Chinese character takes 3)`)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters')
    .meta({ description: `Shown to the buyer on the pay page and in WeChat (the unifiedorder body): at most ${BODY_MAX_BYTES} UTF-8 bytes`, example: '咖啡豆 1kg' }),
  merchant_reference: z.string().regex(MERCHANT_REFERENCE_RE, 'must be 1 to 64 characters of 0-9 A-Z a-z _ - | *')
    .meta({ description: 'Your order id, unique: creating again with the same one and the same amount returns the existing session', example: 'ORDER-10086' }),
  expires_in_minutes: z.number().int('must be a whole number of minutes')
    .min(MIN_EXPIRES_MINUTES, `must be at least ${MIN_EXPIRES_MINUTES} (WeChat refuses shorter payment windows)`)
    .max(MAX_EXPIRES_MINUTES, `must be at most ${MAX_EXPIRES_MINUTES} (7 days)`).optional()
    .meta({ description: `Payment window from now; default ORDER_TTL_MINUTES (15), at least ${MIN_EXPIRES_MINUTES}` }),
  success_url: z.string().max(SUCCESS_URL_MAX, `must be at most ${SUCCESS_URL_MAX} characters`).refine(isHttpUrl, 'must be an absolute http(s) URL').optional()
    .meta({ description: 'Where the buyer goes after paying, with ?session_id={id} added; https in live mode', example: 'https://shop.example.com/thanks' }),
  metadata: z.record(
    z.string().min(1, 'keys must not be empty').max(METADATA_KEY_MAX, `keys must be at most ${METADATA_KEY_MAX} characters`),
    z.string().max(METADATA_VALUE_MAX, `values must be at most ${METADATA_VALUE_MAX} characters`),
  ).refine((m) => Object.keys(m).length <= METADATA_MAX_PAIRS, `must have at most ${METADATA_MAX_PAIRS} pairs`).optional()
    .meta({ description: `Up to ${METADATA_MAX_PAIRS} string pairs of yours, returned with the session` }),
}).strict();

/** The validated create request. */
export type CreateSessionInput = z.output<typeof CreateSessionBody>;

/** GET /api/v1/checkout/sessions: query parameters arrive as strings. */
export const ListSessionsQuery = z.object({
  merchant_reference: z.string().max(64, 'must be at most 64 characters').optional().meta({ description: 'Only the session with this reference' }),
  status: z.enum(SESSION_STATUSES as [string, ...string[]], `must be one of ${SESSION_STATUSES.join(', ')}`).optional(),
  limit: z.string().regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100').transform(Number)
    .refine((n) => n >= 1 && n <= 100, 'must be a whole number from 1 to 100').optional()
    .meta({ description: 'Page size, 1 to 100, default 10' }),
  starting_after: z.string().regex(ORDER_ID_RE, 'must be a session id (cs_...)').optional()
    .meta({ description: 'The id of the last session of the previous page' }),
}).strict();

/** The validated list request. */
export type ListSessionsInput = z.output<typeof ListSessionsQuery>;

/** POST /api/v1/checkout/sessions/{id}/refunds. */
export const CreateRefundBody = z.object({
  amount_fen: amountFen.meta({ description: 'Fen to refund: at most what is left to refund on the session', example: 1000 }),
  reason: z.string().max(REFUND_REASON_MAX, `must be at most ${REFUND_REASON_MAX} characters`).optional()
    .meta({ description: 'Shown to the buyer by WeChat' }),
}).strict();

/** The validated refund request. */
export type CreateRefundInput = z.output<typeof CreateRefundBody>;

/** The {id} path parameter. */
export const SessionIdParam = z.object({ id: z.string().meta({ description: 'The session id (cs_...)' }) });
