import { formatWxDateTime, parseWxTime } from '../wechatpay/time';
import { sandboxDb } from './db';
import type { SandboxOrder } from './orders';
import { type MchCtx, type MchReply, errReply, lackParams, paramError } from './reply';
import type { SandboxRefundsTable } from './schema';
import { formatYuan } from '../money';
import { buildXml } from '../wechatpay/xml';

/** ALL header exactly as docs/wechatpay-v2.md §8. */
const ALL_HEADER = '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
/** SUCCESS and REFUND headers follow the shape of WeChat's published samples (UNVERIFIED: not in our facts file). */
const SUCCESS_HEADER = '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注';
const REFUND_HEADER = '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
const SUMMARY_HEADER = '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';

/** The sandbox's pretend rate: 0.60%, fee rounded to the fen, shown with 5 decimals as WeChat does. */
const RATE = 0.006;
const feeOf = (fen: number) => Math.round(fen * RATE);
const fee5 = (fen: number) => (fen / 100).toFixed(5);
const row = (cells: string[]) => cells.map((c) => `\`${c}`).join(',');

type Refund = SandboxRefundsTable & { order: SandboxOrder };

function base(o: SandboxOrder, at: string, state: string): string[] {
  return [formatWxDateTime(Date.parse(at)), o.appid, o.mch_id, '0', o.device_info ?? '', o.transaction_id ?? '', o.out_trade_no, o.openid ?? '', o.trade_type, state, o.bank_type ?? 'OTHERS', 'CNY'];
}

function payRow(o: SandboxOrder, type: string): string {
  const fee = fee5(feeOf(o.total_fee));
  if (type === 'SUCCESS') return row([...base(o, o.paid_at!, 'SUCCESS'), formatYuan(o.total_fee), '0.00', o.body, o.attach ?? '', fee, '0.60%', formatYuan(o.total_fee), '']);
  return row([...base(o, o.paid_at!, 'SUCCESS'), formatYuan(o.total_fee), '0.00', '0', '', '0.00', '0.00', '', '', o.body, o.attach ?? '', fee, '0.60%', formatYuan(o.total_fee), '0.00', '']);
}

function refundRow(r: Refund, type: string): string {
  const o = r.order;
  const fee = fee5(-feeOf(r.refund_fee));
  const at = r.success_at ?? r.created_at;
  if (type === 'REFUND') {
    return row([...base(o, o.paid_at!, 'REFUND'), formatYuan(o.total_fee), '0.00', formatWxDateTime(Date.parse(r.created_at)), r.success_at ? formatWxDateTime(Date.parse(r.success_at)) : '', r.refund_id, r.out_refund_no, formatYuan(r.refund_fee), '0.00', 'ORIGINAL', r.status, o.body, o.attach ?? '', fee, '0.60%', formatYuan(o.total_fee), formatYuan(r.refund_fee), '']);
  }
  return row([...base(o, at, 'REFUND'), '0.00', '0.00', r.refund_id, r.out_refund_no, formatYuan(r.refund_fee), '0.00', 'ORIGINAL', r.status, o.body, o.attach ?? '', fee, '0.60%', '0.00', formatYuan(r.refund_fee), '']);
}

/** WeChat keeps bills for 3 months ("对账单接口只能下载三个月以内的账单", the downloadbill page). */
export const BILL_KEPT_MONTHS = 3;

/**
 * Whether the bill of `billDate` (yyyyMMdd, UTC+8) can be asked for at `now`: `creating` before
 * `readyHour` hours after the start of that day (WeChat: 34, 10:00 the next morning: "微信在次日9点启动
 * 生成前一天的对账单，建议商户10点后再获取"), `expired` for a day more than 3 calendar months before today
 * (UTC+8), `invalid` for a date that does not exist.
 */
export function billAvailability(billDate: string, readyHour: number, now = Date.now()): 'ready' | 'creating' | 'expired' | 'invalid' {
  const dayStart = /^\d{8}$/.test(billDate) ? parseWxTime(`${billDate}000000`) : undefined;
  if (dayStart === undefined) return 'invalid';
  if (now < dayStart + readyHour * 3_600_000) return 'creating';
  // Today in UTC+8, three calendar months back (the day of month clamped by Date's rollover is fine: a bound, not a date shown).
  const today = new Date(now + 8 * 3_600_000);
  const oldest = Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - BILL_KEPT_MONTHS, today.getUTCDate()) - 8 * 3_600_000;
  return dayStart < oldest ? 'expired' : 'ready';
}

/**
 * WeChat's refusal of a bill it does not have: `return_code=FAIL`, `No Bill Exist` and `error_code` 20002
 * (what merchants get: "<return_msg><![CDATA[No Bill Exist]]></return_msg><error_code><![CDATA[20002]]>
 * </error_code>", developers.weixin.qq.com/community/pay/doc/00046483e60c7082f8b2d1a3a69400). The sandbox
 * answers it for an empty day, a bill not made yet and one older than 3 months alike (the last two:
 * UNVERIFIED beyond "no bill").
 */
export function noBillReply(): MchReply {
  return { status: 200, contentType: 'text/xml; charset=utf-8', body: buildXml({ return_code: 'FAIL', return_msg: 'No Bill Exist', error_code: '20002' }), refusal: 'No Bill Exist' };
}

/**
 * POST /pay/downloadbill: the day's bill (bill_date in UTC+8) as WeChat's plain text: header, rows whose
 * every cell starts with a backtick, summary header, backticked summary row; amounts in yuan. Not signed.
 * A day without transactions, a bill not made yet (before 10:00 UTC+8 the next day) and one older than
 * 3 months answer the XML FAIL `No Bill Exist` with error_code 20002.
 */
export async function downloadBill(ctx: MchCtx): Promise<MchReply> {
  const f = ctx.fields;
  if (!f.bill_date) return lackParams('bill_date');
  if (!/^\d{8}$/.test(f.bill_date)) return paramError('bill_date参数格式错误：yyyyMMdd');
  const type = f.bill_type || 'ALL';
  if (!['ALL', 'SUCCESS', 'REFUND'].includes(type)) return paramError('bill_type参数错误：ALL、SUCCESS或REFUND');
  if (f.tar_type && f.tar_type !== 'GZIP') return paramError('tar_type参数错误');
  if (f.tar_type === 'GZIP') return errReply(ctx, 'NOAUTH', '沙箱不支持GZIP账单');
  const when = billAvailability(f.bill_date, ctx.config.sandboxBillReadyHour);
  if (when === 'invalid') return paramError('bill_date参数格式错误：yyyyMMdd');
  if (when !== 'ready') return noBillReply();
  const text = await billText(ctx.merchant.mchId, f.bill_date, type);
  if (text === undefined) return paramError('bill_date参数格式错误：yyyyMMdd');
  if (text === null) return noBillReply();
  return { status: 200, contentType: 'text/plain; charset=utf-8', body: text };
}

/**
 * The bill text of one UTC+8 day (yyyyMMdd) and type, shared by v2's downloadbill and v3's
 * billdownload: undefined for a date that does not exist, null for a day without transactions.
 */
export async function billText(mchId: string, billDate: string, type: string): Promise<string | null | undefined> {
  // The UTC+8 calendar day, exactly: 16:00 UTC the day before to 16:00 UTC. Rejects 20261399 and the like.
  const dayStart = parseWxTime(`${billDate}000000`);
  if (dayStart === undefined) return undefined;
  const db = await sandboxDb();
  const from = new Date(dayStart).toISOString();
  const to = new Date(dayStart + 86_400_000).toISOString();
  const paid = await db.selectFrom('sandbox_orders').selectAll().where('mch_id', '=', mchId).where('paid_at', '>=', from).where('paid_at', '<', to).orderBy('paid_at', 'asc').execute();
  const refundRows = await db.selectFrom('sandbox_refunds').selectAll().where('mch_id', '=', mchId).where('created_at', '>=', from).where('created_at', '<', to).orderBy('created_at', 'asc').execute();
  const refunds: Refund[] = [];
  for (const r of refundRows) {
    const order = await db.selectFrom('sandbox_orders').selectAll().where('mch_id', '=', r.mch_id).where('out_trade_no', '=', r.out_trade_no).executeTakeFirstOrThrow();
    refunds.push({ ...r, order });
  }
  const pays = type === 'REFUND' ? [] : paid;
  const refs = type === 'SUCCESS' ? [] : refunds;
  if (pays.length + refs.length === 0) return null;
  const header = type === 'ALL' ? ALL_HEADER : type === 'SUCCESS' ? SUCCESS_HEADER : REFUND_HEADER;
  const lines = [header, ...pays.map((o) => payRow(o, type)), ...refs.map((r) => refundRow(r, type))];
  const totalPaid = pays.reduce((s, o) => s + o.total_fee, 0);
  const totalRefund = refs.reduce((s, r) => s + r.refund_fee, 0);
  const totalFee = pays.reduce((s, o) => s + feeOf(o.total_fee), 0) - refs.reduce((s, r) => s + feeOf(r.refund_fee), 0);
  lines.push(SUMMARY_HEADER);
  lines.push(row([String(pays.length + refs.length), formatYuan(totalPaid), formatYuan(totalRefund), '0.00', fee5(totalFee), formatYuan(totalPaid), formatYuan(totalRefund)]));
  return `${lines.join('\r\n')}\r\n`;
}
