/**
 * The merchant's side: the login check and its throttle, the order list (filters, search, keyset
 * pages, today's totals), one order's full detail, the CSV export, and the counts of unverified
 * notifies. The session flag itself lives in app/ (the cookie is HTTP's business).
 */
export { checkMerchantLogin, clientKey, MAX_FAILURES, passwordMatches, WINDOW_MS, type LoginResult } from './auth';
export {
  listOrders, ORDER_STATUSES, parseOrderQuery, todayTotals,
  type MerchantOrderRow, type OrderCursor, type OrderFilter, type ParsedQuery, type TodayTotals,
} from './list';
export { getMerchantOrder, type MerchantOrderDetail } from './detail';
export { listRefusedNotifies, MAX_REFUSED_HOURS, parseRefusedHours, type RefusedNotifies, type RefusedNotifyRow } from './refused';
export { csvLine, ordersCsvStream, UTF8_BOM } from './csv';
