/**
 * The merchant's side: the login check and its throttle, the order list (filters, search, keyset
 * pages, today's totals), one order's full detail, and the CSV export. The session flag itself lives
 * in app/ (the cookie is HTTP's business).
 */
export { checkMerchantLogin, clientKey, MAX_FAILURES, passwordMatches, WINDOW_MS, type LoginResult } from './auth';
export {
  listOrders, ORDER_STATUSES, parseOrderQuery, todayTotals,
  type MerchantOrderRow, type OrderCursor, type OrderFilter, type ParsedQuery, type TodayTotals,
} from './list';
export { getMerchantOrder, type MerchantOrderDetail } from './detail';
export { csvLine, ordersCsvStream, UTF8_BOM } from './csv';
