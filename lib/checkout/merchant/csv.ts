import { formatChinaTime } from '../../china-time';
import { formatYuan } from '../../money';
import { type MerchantOrderRow, type OrderCursor, type OrderFilter, decodeCursor, listOrders } from './list';

/** Excel only reads a CSV as UTF-8 (Chinese product names) when the file starts with a BOM. */
export const UTF8_BOM = '\uFEFF';
/** A download is the filtered list, capped so one click cannot hold the server forever. */
const CSV_MAX_ROWS = 100_000;
const BATCH = 500;

const HEADER = ['order_id', 'status', 'amount_yuan', 'refunded_yuan', 'sku', 'name', 'quantity', 'buyer_openid', 'transaction_id', 'duplicate_paid', 'created_at_utc8', 'paid_at_utc8'];

/** RFC 4180 quoting, plus a leading quote mark for cells a spreadsheet would run as a formula. */
function csvCell(v: string | number | null | undefined): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(o: MerchantOrderRow): string {
  return [
    o.id, o.status, formatYuan(o.amountFen), formatYuan(o.refundedFen), o.sku, o.name, o.quantity,
    o.buyerOpenid, o.transactionId, o.duplicatePaid ? 1 : 0, formatChinaTime(o.createdAt), formatChinaTime(o.paidAt),
  ].map(csvCell).join(',') + '\r\n';
}

/** The filtered list as a CSV stream (BOM, header, one line per order), read page by page through the same indexed queries. */
export function ordersCsvStream(filter: OrderFilter): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let cursor: OrderCursor | undefined;
  let sent = 0;
  let started = false;
  let done = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(enc.encode(UTF8_BOM + HEADER.join(',') + '\r\n'));
        return;
      }
      if (done) return;
      const { orders, nextCursor } = await listOrders(filter, cursor, Math.min(BATCH, CSV_MAX_ROWS - sent));
      sent += orders.length;
      if (orders.length) controller.enqueue(enc.encode(orders.map(csvLine).join('')));
      cursor = nextCursor ? decodeCursor(nextCursor) : undefined;
      if (!cursor || sent >= CSV_MAX_ROWS) {
        done = true;
        controller.close();
      }
    },
  });
}
