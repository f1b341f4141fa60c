import { getDb, nowIso } from '../../db';
import type { Order, OrderStatus, PaymentAttempt, TradeType } from '../../db/schema';
import type { Viewer } from '../buyer';
import { ORDER_ID_RE } from '../kernel';

/**
 * The order when `viewer` may see it: the buyer whose session made it (buyer_id), the WeChat user it
 * belongs to (buyer_openid), or a merchant; an API checkout session, anyone holding its id. Anyone else
 * gets undefined, which routes turn into 404, so a stranger cannot even learn that the id exists.
 */
export async function getOrderForViewer(orderId: string, viewer: Viewer): Promise<Order | undefined> {
  if (!ORDER_ID_RE.test(orderId)) return undefined;
  const db = await getDb();
  const order = await db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
  if (!order) return undefined;
  // An API checkout session's pay URL (/pay/{id}) is a bearer link, like Stripe's checkout URL: the
  // merchant hands it to whoever should pay, maybe on two devices, so knowing its unguessable id is
  // what lets one follow its status.
  if (order.origin === 'api') return order;
  if (viewer.merchant) return order;
  if (viewer.buyerId && order.buyer_id === viewer.buyerId) return order;
  if (viewer.openid && order.buyer_openid && order.buyer_openid === viewer.openid) return order;
  return undefined;
}

/** The order's payment attempts, newest first. */
export async function listAttempts(orderId: string): Promise<PaymentAttempt[]> {
  const db = await getDb();
  return db.selectFrom('payment_attempts').selectAll().where('order_id', '=', orderId).orderBy('created_at', 'desc').execute();
}

/** States after which the buyer's page stops polling: nothing more will happen without a merchant. */
export const FINAL_STATUSES: readonly OrderStatus[] = ['paid', 'closed', 'partially_refunded', 'refunded'];

/** GET /api/orders/[id]: the contract names of docs/http-api.md (id, status, amountFen) plus what the buyer's pages show. */
export interface OrderStatusJson {
  id: string;
  status: OrderStatus;
  amountFen: number;
  /** The product of a shop-link order; null for an API checkout session. */
  sku: string | null;
  name: string;
  quantity: number;
  createdAt: string;
  paidAt: string | null;
  transactionId: string | null;
  refundedFen: number;
  /** Trade type of the newest attempt, when there is one. */
  tradeType: TradeType | null;
  /** When the newest open attempt stops being payable (the QR countdown), or null. */
  expiresAt: string | null;
  /** Pending with a payable attempt: the server is checking with WeChat (orderquery) as the page polls. */
  confirming: boolean;
  /**
   * When the server last asked WeChat about this order (orders.last_query_at), or null: the H5 return
   * page says "not paid yet" only once a check made after the buyer came back still found it unpaid.
   */
  checkedAt: string | null;
  final: boolean;
}

/** Shapes an order and its attempts (newest first) into what GET /api/orders/[id] answers. */
export function orderStatusJson(order: Order, attempts: PaymentAttempt[], now: number = Date.now()): OrderStatusJson {
  const newest = attempts[0];
  const open = attempts.find((a) => a.status === 'open');
  const openUnexpired = open && open.expires_at > nowIso(now) ? open : undefined;
  return {
    id: order.id,
    status: order.status,
    amountFen: order.amount_fen,
    sku: order.sku,
    name: order.name,
    quantity: order.quantity,
    createdAt: order.created_at,
    paidAt: order.paid_at,
    transactionId: order.transaction_id,
    refundedFen: order.refunded_fen,
    tradeType: newest ? newest.trade_type : null,
    expiresAt: open ? open.expires_at : null,
    confirming: order.status === 'pending' && openUnexpired !== undefined,
    checkedAt: order.last_query_at,
    final: FINAL_STATUSES.includes(order.status),
  };
}
