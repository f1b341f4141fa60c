import { getConfig } from '../../config';
import type { Order } from '../../db/schema';

/*
 * The checkout session as the API (and, later, webhooks) show it. One order row is one session,
 * whether a buyer opened a shop link or a merchant's system created it through the API, so this reads
 * nothing but the order.
 */

/** A session's status: the order's, with `open`/`expired`/`closed` told apart (see sessionStatus). */
export type SessionStatus = 'open' | 'paid' | 'expired' | 'closed' | 'refunded' | 'partially_refunded';

/** Every SessionStatus, for validation and the OpenAPI document. */
export const SESSION_STATUSES: readonly SessionStatus[] = ['open', 'paid', 'expired', 'closed', 'refunded', 'partially_refunded'];

/** The public JSON of a checkout session (docs/api.md). Money in fen, times ISO-8601 UTC. */
export interface SessionObject {
  id: string;
  url: string;
  status: SessionStatus;
  amount_fen: number;
  amount_refunded_fen: number;
  description: string;
  merchant_reference: string | null;
  metadata: Record<string, string>;
  success_url: string | null;
  expires_at: string | null;
  created_at: string;
  paid_at: string | null;
  transaction_id: string | null;
  payer_openid: string | null;
  livemode: boolean;
}

/**
 * The session status of an order at `now`:
 *  - pending: `open`, or `expired` once expires_at has passed (the reconciler closes it soon after; a
 *    payment WeChat reports even then still makes it paid, as money that moved always does);
 *  - closed: `expired` when the payment window ended (closed_reason 'expired'), else `closed` (by the
 *    merchant or an API call, or closed before migration 0006 recorded why);
 *  - paid, partially_refunded, refunded: as they are.
 */
export function sessionStatus(order: Pick<Order, 'status' | 'expires_at' | 'closed_reason'>, now: number = Date.now()): SessionStatus {
  switch (order.status) {
    case 'pending':
      return order.expires_at !== null && Date.parse(order.expires_at) <= now ? 'expired' : 'open';
    case 'closed':
      return order.closed_reason === 'expired' ? 'expired' : 'closed';
    default:
      return order.status;
  }
}

/** The buyer's page of a session: PUBLIC_BASE_URL/pay/{id}. */
export function sessionUrl(id: string): string {
  return `${getConfig().publicBaseUrl}/pay/${id}`;
}

/** metadata as stored (JSON text of string pairs); anything unreadable shows as no metadata. */
export function parseMetadata(text: string | null): Record<string, string> {
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

const PAID_LIKE = new Set(['paid', 'partially_refunded', 'refunded']);

/** The session JSON of an order row. `livemode` is the mode this process runs in (sandbox or live). */
export function sessionObject(order: Order, now: number = Date.now()): SessionObject {
  return {
    id: order.id,
    url: sessionUrl(order.id),
    status: sessionStatus(order, now),
    amount_fen: Number(order.amount_fen),
    amount_refunded_fen: Number(order.refunded_fen),
    description: order.name,
    merchant_reference: order.merchant_reference,
    metadata: parseMetadata(order.metadata),
    success_url: order.success_url,
    expires_at: order.expires_at,
    created_at: order.created_at,
    paid_at: order.paid_at,
    transaction_id: order.transaction_id,
    // Before payment a shop order may hold the JSAPI buyer's openid; it becomes the payer's once paid.
    payer_openid: PAID_LIKE.has(order.status) ? order.buyer_openid : null,
    livemode: getConfig().mode === 'live',
  };
}
