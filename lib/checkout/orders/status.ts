import { log } from '../../log';
import type { Viewer } from '../buyer';
import { confirmPendingOrder } from '../payments';
import { getOrderForViewer, listAttempts, orderStatusJson, type OrderStatusJson } from './view';

/**
 * What the buyer's status poll answers: the order as `viewer` may see it (undefined: 404). A still
 * pending order is first confirmed with WeChat (orderquery, rate-limited per order inside
 * confirmPendingOrder), so a lost or late notify does not leave the buyer waiting. A failing query
 * never fails the poll: the stored state is still the truth we have.
 */
export async function orderStatusForViewer(orderId: string, viewer: Viewer, confirm = true): Promise<OrderStatusJson | undefined> {
  let order = await getOrderForViewer(orderId, viewer);
  if (!order) return undefined;
  if (confirm && order.status === 'pending') {
    try {
      await confirmPendingOrder(order.id);
    } catch (e) {
      log().warn({ event: 'order_poll', order_id: order.id, err: e }, 'confirmPendingOrder failed; answering the stored state');
    }
    order = (await getOrderForViewer(orderId, viewer)) ?? order;
  }
  return orderStatusJson(order, await listAttempts(order.id));
}
