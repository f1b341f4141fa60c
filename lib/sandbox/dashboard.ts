import { getConfig } from '../config';
import { sandboxDb } from './db';
import { activeFaults } from './faults';
import { listRequests } from './requests';
import type { SandboxAttemptsTable, SandboxDeliveriesTable, SandboxOrdersTable, SandboxRefundsTable } from './schema';
import { envMerchant, listMerchants } from './merchants';
import { h5PayOf } from './h5';
import { listUsers } from './users';

export type DeliveryView = SandboxDeliveriesTable & { log: SandboxAttemptsTable[] };
export type OrderView = SandboxOrdersTable & { deliveries: DeliveryView[]; refunds: SandboxRefundsTable[] };

/** Orders of every merchant (or of `mchId`), newest first, each with its notify deliveries (attempt log included) and refunds. */
export async function listOrders(limit = 100, outTradeNo?: string, mchId?: string): Promise<OrderView[]> {
  const db = await sandboxDb();
  let q = db.selectFrom('sandbox_orders').selectAll();
  if (mchId) q = q.where('mch_id', '=', mchId);
  if (outTradeNo) q = q.where('out_trade_no', '=', outTradeNo);
  const orders = await q.orderBy('created_at', 'desc').orderBy('out_trade_no', 'desc').limit(limit).execute();
  if (orders.length === 0) return [];
  const nos = orders.map((o) => o.out_trade_no);
  const deliveries = await db.selectFrom('sandbox_deliveries').selectAll().where('out_trade_no', 'in', nos).orderBy('created_at', 'asc').execute();
  const ids = deliveries.map((d) => d.id);
  const attempts = ids.length ? await db.selectFrom('sandbox_attempts').selectAll().where('delivery_id', 'in', ids).orderBy('at', 'asc').execute() : [];
  const refunds = await db.selectFrom('sandbox_refunds').selectAll().where('out_trade_no', 'in', nos).orderBy('created_at', 'asc').execute();
  return orders.map((o) => ({
    ...o,
    // out_trade_no is unique per merchant only; rows from before several merchants carry no mch_id.
    deliveries: deliveries.filter((d) => d.out_trade_no === o.out_trade_no && (d.mch_id === null || d.mch_id === o.mch_id)).map((d) => ({ ...d, log: attempts.filter((a) => a.delivery_id === d.id) })),
    refunds: refunds.filter((r) => r.out_trade_no === o.out_trade_no && r.mch_id === o.mch_id),
  }));
}

/** The JSON of GET /sandbox/sim/orders (docs/http-api.md): snake_case as the wire, newest first (100; or one out_trade_no; or one merchant's). */
export async function ordersJson(outTradeNo?: string, mchId?: string) {
  const orders = await listOrders(100, outTradeNo, mchId);
  return {
    orders: orders.map((o) => ({
      mch_id: o.mch_id,
      appid: o.appid,
      out_trade_no: o.out_trade_no,
      total_fee: o.total_fee,
      trade_type: o.trade_type,
      state: o.state,
      prepay_id: o.prepay_id,
      code_url: o.code_url,
      openid: o.openid,
      transaction_id: o.transaction_id,
      sign_type: o.sign_type,
      notify_url: o.notify_url,
      refunded_fee: o.refunded_fee,
      created_at: o.created_at,
      paid_at: o.paid_at,
      refunds: o.refunds.map((r) => ({ out_refund_no: r.out_refund_no, refund_id: r.refund_id, refund_fee: r.refund_fee, status: r.status })),
      deliveries: o.deliveries.map((d) => ({
        id: d.id,
        kind: d.kind,
        out_refund_no: d.out_refund_no,
        url: d.url,
        status: d.status,
        attempts: d.attempts,
        next_at: d.next_at,
        duplicate: d.duplicate === 1,
        log: d.log.map((a) => ({ attempt: a.attempt_no, at: a.at, status: a.http_status, reply: a.reply, error: a.error, accepted: a.accepted === 1 })),
      })),
    })),
  };
}

/** Everything the dashboard shows: the 50 newest orders and refused requests, users, faults, identity. */
export async function dashboardData() {
  const config = getConfig();
  const merchants = await listMerchants();
  return {
    merchants,
    h5: await Promise.all(merchants.map(async (m) => ({ mchId: m.mchId, name: m.name, domains: m.h5Domains, pay: await h5PayOf(m) }))),
    orders: await listOrders(50),
    requests: await listRequests(50),
    users: await listUsers(envMerchant(config).appId),
    faults: activeFaults(),
    appId: config.appId,
    mchId: config.mchId,
    timeScale: config.sandboxTimeScale,
  };
}
