import { sql } from 'kysely';
import { getConfig } from '../config';
import { formatWxDateTime } from '../wechatpay/time';
import { type SandboxDb, sandboxDb } from './db';
import { nowIso } from '../db';
import { enqueueDelivery } from './deliveries';
import { newRefundId } from './ids';
import { takeRefundOutcome } from './faults';
import { findOrder, isPaid, type SandboxOrder } from './orders';
import { type MchCtx, type MchReply, errReply, failReply, lackParams, okReply, paramError } from './reply';
import type { SandboxRefundsTable, SandboxState } from './schema';

/** How long WeChat takes to finish a refund here (PROCESSING -> SUCCESS), divided by SANDBOX_TIME_SCALE. */
const SETTLE_MS = 3000;
const MAX_REFUNDS = 50;
const POSINT = /^[1-9]\d{0,9}$/;
/**
 * The refund page's INVALID_REQUEST texts ("参数错误 请求参数未按指引进行填写" is the code's meaning; the
 * reasons are those merchants report): more than is left, and one out_refund_no sent with other amounts.
 */
const OVER_REFUND = '申请退款金额超过订单可退金额';
const AMOUNTS_DIFFER = '订单金额或退款金额与之前请求不一致，请核实后再试';
/** refundquery answers at most this many refunds; `offset` pages through the rest. */
const REFUNDQUERY_PAGE = 10;

/**
 * Refunds whose time has come end as they were set to: SUCCESS, or REFUNDCLOSE / CHANGE by fault
 * (conditional: exactly once whoever gets there first). A closed refund gives its amount back to the
 * order (nothing left the merchant); a CHANGE one keeps it taken (the money left, but never arrived).
 */
export async function settleDueRefunds(db: SandboxDb, where?: { outRefundNo?: string }): Promise<void> {
  const now = nowIso();
  let q = db.selectFrom('sandbox_refunds').selectAll().where('status', '=', 'PROCESSING').where('settle_at', '<=', now);
  if (where?.outRefundNo) q = q.where('out_refund_no', '=', where.outRefundNo);
  for (const r of await q.execute()) {
    const to = r.final_status ?? 'SUCCESS';
    await db.transaction().execute(async (trx) => {
      const u = await trx.updateTable('sandbox_refunds').set({ status: to, success_at: to === 'SUCCESS' ? now : null })
        .where('mch_id', '=', r.mch_id).where('out_refund_no', '=', r.out_refund_no).where('status', '=', 'PROCESSING').executeTakeFirst();
      if (Number(u.numUpdatedRows) === 0 || to !== 'REFUNDCLOSE') return;
      await trx.updateTable('sandbox_orders')
        .set((eb) => ({ refunded_fee: eb('refunded_fee', '-', r.refund_fee), state: sql<SandboxState>`case when refunded_fee - ${r.refund_fee} > 0 then 'REFUND' else 'SUCCESS' end`, updated_at: now }))
        .where('mch_id', '=', r.mch_id).where('out_trade_no', '=', r.out_trade_no).execute();
    });
  }
}

function refundAnswer(ctx: MchCtx, r: SandboxRefundsTable, transactionId: string): MchReply {
  return okReply(ctx, {
    transaction_id: transactionId,
    out_trade_no: r.out_trade_no,
    out_refund_no: r.out_refund_no,
    refund_id: r.refund_id,
    refund_fee: String(r.refund_fee),
    settlement_refund_fee: String(r.refund_fee),
    total_fee: String(r.total_fee),
    settlement_total_fee: String(r.total_fee),
    fee_type: 'CNY',
    cash_fee: String(r.total_fee),
    cash_refund_fee: String(r.refund_fee),
  });
}

/**
 * POST /secapi/pay/refund. The real endpoint demands the merchant's client certificate (mutual TLS);
 * behind `next start` on plain HTTP no client certificate can be checked, so the sandbox checks only the
 * signature. Success means accepted: the refund settles a moment later and a refund notify follows.
 */
export async function refund(ctx: MchCtx): Promise<MchReply> {
  const f = ctx.fields;
  if (!f.transaction_id && !f.out_trade_no) return lackParams('out_trade_no');
  for (const k of ['out_refund_no', 'total_fee', 'refund_fee']) if (!f[k]) return lackParams(k);
  if (!/^[0-9A-Za-z_\-|*@]{1,64}$/.test(f.out_refund_no)) return paramError('out_refund_no参数格式错误');
  if (!POSINT.test(f.total_fee)) return paramError('total_fee参数格式错误');
  if (!POSINT.test(f.refund_fee)) return paramError('refund_fee参数格式错误');
  if (f.notify_url && !/^https?:\/\/[^?]+$/.test(f.notify_url)) return paramError('notify_url参数格式错误');
  const db = await sandboxDb();
  const o = await findOrder(db, ctx.merchant.mchId, { transaction_id: f.transaction_id, out_trade_no: f.out_trade_no });
  if (!o) return errReply(ctx, 'ORDERNOTEXIST', '订单不存在');
  const r = await createRefund(db, o, { outRefundNo: f.out_refund_no, refundFee: Number(f.refund_fee), totalFee: Number(f.total_fee), desc: f.refund_desc || null, notifyUrl: f.notify_url || null });
  switch (r.kind) {
    case 'ok':
    case 'repeat':
      return refundAnswer(ctx, r.row, o.transaction_id!);
    case 'mismatch':
      return errReply(ctx, 'INVALID_REQUEST', AMOUNTS_DIFFER);
    case 'unpaid':
      // v2's refund knows only paid trades: an unpaid one is ORDERNOTEXIST (merchants report exactly this for
      // trades they can see unpaid in the portal; the v2 error list has no state error for it).
      return errReply(ctx, 'ORDERNOTEXIST', '订单不存在');
    case 'too_many':
      return errReply(ctx, 'ERROR', `退款次数超过限制：每笔订单最多${MAX_REFUNDS}次部分退款`);
    case 'not_enough':
      return errReply(ctx, 'INVALID_REQUEST', OVER_REFUND);
  }
}

/** What createRefund decided: a new refund, the same one again, or why not. */
export type CreateRefund =
  | { kind: 'ok' | 'repeat'; row: SandboxRefundsTable }
  | { kind: 'mismatch' | 'unpaid' | 'too_many' | 'not_enough' };

/**
 * WeChat's side of a refund request, for both protocols: one refund per out_refund_no (a retry with
 * the same number and amounts is the same refund), the trade must be paid and its total match, and the
 * refunded sum may never pass the total (a conditional update, so concurrent refunds cannot overdraw).
 * A new refund is PROCESSING, settles a moment later (SUCCESS, or REFUNDCLOSE / CHANGE by fault), and
 * its notify is queued for then, only when the request named a notify_url (the sandbox has no merchant
 * portal setting to fall back on).
 */
export async function createRefund(db: SandboxDb, o: SandboxOrder, req: { outRefundNo: string; refundFee: number; totalFee: number; desc: string | null; notifyUrl: string | null }): Promise<CreateRefund> {
  const refundFee = req.refundFee;
  const prior = await db.selectFrom('sandbox_refunds').selectAll().where('mch_id', '=', o.mch_id).where('out_refund_no', '=', req.outRefundNo).executeTakeFirst();
  if (prior) {
    if (prior.out_trade_no === o.out_trade_no && prior.refund_fee === refundFee && prior.total_fee === req.totalFee) return { kind: 'repeat', row: prior };
    return { kind: 'mismatch' };
  }
  if (!isPaid(o)) return { kind: 'unpaid' };
  if (req.totalFee !== o.total_fee) return { kind: 'mismatch' };
  if (refundFee > o.total_fee - o.refunded_fee) return { kind: 'not_enough' };
  const now = Date.now();
  const row: SandboxRefundsTable = {
    out_refund_no: req.outRefundNo,
    mch_id: o.mch_id,
    out_trade_no: o.out_trade_no,
    refund_id: newRefundId(now),
    refund_fee: refundFee,
    total_fee: o.total_fee,
    refund_desc: req.desc,
    notify_url: req.notifyUrl || '',
    status: 'PROCESSING',
    final_status: takeRefundOutcome() ?? null,
    settle_at: nowIso(now + SETTLE_MS / getConfig().sandboxTimeScale),
    success_at: null,
    created_at: nowIso(now),
  };
  const outcome = await db.transaction().execute(async (trx) => {
    const count = await trx.selectFrom('sandbox_refunds').select((eb) => eb.fn.countAll().as('n')).where('mch_id', '=', o.mch_id).where('out_trade_no', '=', o.out_trade_no).executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_REFUNDS) return 'too_many' as const;
    const u = await trx
      .updateTable('sandbox_orders')
      .set((eb) => ({ refunded_fee: eb('refunded_fee', '+', refundFee), state: 'REFUND', updated_at: nowIso(now) }))
      .where('mch_id', '=', o.mch_id)
      .where('out_trade_no', '=', o.out_trade_no)
      .where('state', 'in', ['SUCCESS', 'REFUND'])
      .where((eb) => eb(eb('refunded_fee', '+', refundFee), '<=', eb.ref('total_fee')))
      .executeTakeFirst();
    if (Number(u.numUpdatedRows) === 0) return 'not_enough' as const;
    await trx.insertInto('sandbox_refunds').values(row).execute();
    return 'ok' as const;
  });
  if (outcome !== 'ok') return { kind: outcome };
  if (row.notify_url) await enqueueDelivery(db, { kind: 'refund', mchId: o.mch_id, outTradeNo: o.out_trade_no, outRefundNo: row.out_refund_no, url: row.notify_url, body: null, dueMs: Date.parse(row.settle_at) });
  return { kind: 'ok', row };
}

/** POST /pay/refundquery by refund_id, out_refund_no, transaction_id or out_trade_no (WeChat's priority). */
export async function refundQuery(ctx: MchCtx): Promise<MchReply> {
  const f = ctx.fields;
  if (!f.refund_id && !f.out_refund_no && !f.transaction_id && !f.out_trade_no) return lackParams('out_refund_no');
  if (f.offset !== undefined && f.offset !== '' && !/^\d{1,4}$/.test(f.offset)) return failReply('offset参数格式错误');
  const db = await sandboxDb();
  await settleDueRefunds(db);
  let q = db.selectFrom('sandbox_refunds').selectAll().where('mch_id', '=', ctx.merchant.mchId);
  if (f.refund_id) q = q.where('refund_id', '=', f.refund_id);
  else if (f.out_refund_no) q = q.where('out_refund_no', '=', f.out_refund_no);
  else {
    const o = await findOrder(db, ctx.merchant.mchId, { transaction_id: f.transaction_id, out_trade_no: f.out_trade_no });
    if (!o) return errReply(ctx, 'REFUNDNOTEXIST', '退款订单查询失败');
    q = q.where('out_trade_no', '=', o.out_trade_no);
  }
  const all = await q.orderBy('created_at', 'asc').orderBy('refund_id', 'asc').execute();
  if (all.length === 0) return errReply(ctx, 'REFUNDNOTEXIST', '退款订单查询失败');
  // At most 10 per answer; `offset` (when sent) picks the page and brings total_refund_count.
  const offset = f.offset ? Number(f.offset) : 0;
  if (offset >= all.length) return errReply(ctx, 'REFUNDNOTEXIST', '退款订单查询失败');
  const refunds = all.slice(offset, offset + REFUNDQUERY_PAGE);
  const o = (await findOrder(db, ctx.merchant.mchId, { out_trade_no: refunds[0].out_trade_no }))!;
  const fields: Record<string, string> = {
    transaction_id: o.transaction_id ?? '',
    out_trade_no: o.out_trade_no,
    total_fee: String(o.total_fee),
    cash_fee: String(o.total_fee),
    fee_type: 'CNY',
    refund_count: String(refunds.length),
  };
  if (f.offset) fields.total_refund_count = String(all.length);
  refunds.forEach((r, n) => {
    fields[`out_refund_no_${n}`] = r.out_refund_no;
    fields[`refund_id_${n}`] = r.refund_id;
    fields[`refund_channel_${n}`] = 'ORIGINAL';
    fields[`refund_fee_${n}`] = String(r.refund_fee);
    fields[`settlement_refund_fee_${n}`] = String(r.refund_fee);
    fields[`refund_status_${n}`] = r.status;
    fields[`refund_account_${n}`] = 'REFUND_SOURCE_UNSETTLED_FUNDS';
    fields[`refund_recv_accout_${n}`] = '支付用户的零钱';
    if (r.success_at) fields[`refund_success_time_${n}`] = formatWxDateTime(Date.parse(r.success_at));
  });
  return okReply(ctx, fields);
}
