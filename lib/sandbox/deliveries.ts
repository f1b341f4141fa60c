import { type SandboxDb } from './db';
import { nowIso } from '../db';
import { takeNotifyFault } from './faults';
import { newRowId } from './ids';

/** WeChat's notify retry schedule in seconds after each failed attempt (docs/wechatpay-v2.md §5; 24h04m). */
export const RETRY_SCHEDULE_S = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];

const key = Symbol.for('wechat-checkout.sandbox-notifier-kick');

/** Wakes the notifier (it lives in the instrumentation bundle; route handlers reach it through globalThis). */
function kickNotifier(): void {
  const k = (globalThis as { [key]?: () => void })[key];
  k?.();
}

export function registerKick(fn: () => void): void {
  (globalThis as { [key]?: () => void })[key] = fn;
}

/**
 * Queues one notify (a payment's or a refund's). Consumes a DROP_NOTIFY fault (nothing queued: the
 * merchant must find the payment by orderquery) or DUPLICATE_NOTIFY (posted twice concurrently).
 * `body` null means it is built at the first attempt (refund notifies: after the refund settles).
 */
export async function enqueueDelivery(
  db: SandboxDb,
  d: { kind: 'pay' | 'refund'; mchId: string; outTradeNo: string; outRefundNo?: string; url: string; body: string | null; dueMs?: number },
): Promise<string | undefined> {
  const fault = takeNotifyFault();
  if (fault === 'DROP_NOTIFY') return undefined;
  const now = Date.now();
  const id = newRowId('dl');
  await db
    .insertInto('sandbox_deliveries')
    .values({
      id,
      kind: d.kind,
      mch_id: d.mchId,
      out_trade_no: d.outTradeNo,
      out_refund_no: d.outRefundNo ?? null,
      url: d.url,
      body: d.body,
      status: 'pending',
      attempts: 0,
      next_at: nowIso(d.dueMs ?? now),
      duplicate: fault === 'DUPLICATE_NOTIFY' ? 1 : 0,
      last_status: null,
      last_reply: null,
      created_at: nowIso(now),
      updated_at: nowIso(now),
    })
    .execute();
  kickNotifier();
  return id;
}

/** The dashboard's Resend: one more attempt now, whatever the delivery's state. */
export async function resendDelivery(db: SandboxDb, id: string): Promise<boolean> {
  const r = await db
    .updateTable('sandbox_deliveries')
    .set({ status: 'pending', next_at: nowIso(), updated_at: nowIso() })
    .where('id', '=', id)
    .executeTakeFirst();
  kickNotifier();
  return Number(r.numUpdatedRows) > 0;
}
