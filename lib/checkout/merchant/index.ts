/**
 * The merchant's side: the login (a throttle shared by every instance, server-side sessions), the
 * order list (filters, search, keyset pages, today's totals), one order's full detail, the CSV export,
 * and the counts of unverified notifies. The cookie that carries the session id is app/'s business.
 */
export { logInMerchant, passwordMatches, type LoginInput, type LoginResult } from './auth';
export { GLOBAL_MAX_FAILURES, MAX_FAILURES, WINDOW_MS, type ThrottleScope } from './throttle';
export { checkMerchantSession, revokeMerchantSession, SESSION_IDLE_MS, SESSION_MAX_MS } from './sessions';
export {
  listOrders, ORDER_STATUSES, parseOrderQuery, todayTotals,
  type MerchantOrderRow, type OrderCursor, type OrderFilter, type ParsedQuery, type TodayTotals,
} from './list';
export { getMerchantOrder, type MerchantOrderDetail } from './detail';
export { listRefusedNotifies, MAX_REFUSED_HOURS, parseRefusedHours, type RefusedNotifies, type RefusedNotifyRow } from './refused';
export { csvLine, ordersCsvStream, UTF8_BOM } from './csv';
