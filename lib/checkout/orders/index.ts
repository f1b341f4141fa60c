/**
 * Orders as the buyer sees them: who may see an order (its buyer, its WeChat user, a merchant) and the
 * live status the order page polls, confirmed with WeChat while it is still pending.
 */
export { orderStatusJson, type OrderStatusJson } from './view';
export { orderStatusForViewer } from './status';
export type { OrderStatus } from '../../db/schema';
