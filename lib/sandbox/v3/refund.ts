import { createHash, createHmac } from 'node:crypto';
import { getConfig } from '../../config';
import { billAvailability, billText } from '../bill';
import { sandboxDb } from '../db';
import { findOrder } from '../orders';
import { createRefund, settleDueRefunds } from '../refund';
import type { V3Identity } from './identity';
import { refundJson } from './notify-body';
import { v3Error, v3Json, v3ParamError, type V3Reply } from './reply';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const FEN = (v: unknown) => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 2_147_483_647;

/**
 * POST /v3/refund/domestic/refunds: no client certificate on v3 (the signature is the proof). The same
 * refund table and rules as v2 (lib/sandbox/refund.ts createRefund); answers PROCESSING, settles a
 * moment later, and the refund notify follows.
 */
export async function createV3Refund(id: V3Identity, b: Obj): Promise<V3Reply> {
  if (typeof b.out_trade_no !== 'string' && typeof b.transaction_id !== 'string') return v3ParamError('/out_trade_no', 'out_trade_no和transaction_id必填其一');
  if (typeof b.out_refund_no !== 'string' || !/^[0-9A-Za-z_\-|*@]{1,64}$/.test(b.out_refund_no)) return v3ParamError('/out_refund_no', '1-64位数字、大小写字母或_-|*@', 'body', b.out_refund_no);
  const amount = b.amount;
  if (!isObj(amount)) return v3ParamError('/amount', '必填');
  if (!FEN(amount.refund)) return v3ParamError('/amount/refund', '必须是正整数（单位分）', 'body', amount.refund);
  if (!FEN(amount.total)) return v3ParamError('/amount/total', '必须是正整数（单位分）', 'body', amount.total);
  if (amount.currency !== 'CNY') return v3ParamError('/amount/currency', '仅支持CNY', 'body', amount.currency);
  if (b.notify_url !== undefined && (typeof b.notify_url !== 'string' || !/^https?:\/\/[^?#\s]+$/.test(b.notify_url))) return v3ParamError('/notify_url', '必须是不带参数的http(s)完整地址');
  const db = await sandboxDb();
  const mchId = id.merchant.mchId;
  const o = await findOrder(db, mchId, { out_trade_no: b.out_trade_no as string | undefined, transaction_id: b.transaction_id as string | undefined });
  if (!o) return v3Error(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
  const r = await createRefund(db, o, { outRefundNo: b.out_refund_no, refundFee: amount.refund as number, totalFee: amount.total as number, desc: typeof b.reason === 'string' ? b.reason : null, notifyUrl: (b.notify_url as string) ?? null });
  switch (r.kind) {
    case 'ok':
    case 'repeat':
      return v3Json(200, refundJson(r.row, o));
    case 'mismatch':
      return v3ParamError('/amount/total', '订单金额或退款金额与之前请求不一致，请核实后再试');
    case 'unpaid':
      return v3Error(400, 'INVALID_REQUEST', '订单未支付，不能退款');
    case 'too_many':
      return v3Error(403, 'REQUEST_BLOCKED', '退款次数超过限制');
    case 'not_enough':
      return v3Error(403, 'NOT_ENOUGH', '可退金额不足');
  }
}

/** GET /v3/refund/domestic/refunds/{out_refund_no}. */
export async function queryV3Refund(id: V3Identity, outRefundNo: string): Promise<V3Reply> {
  const db = await sandboxDb();
  await settleDueRefunds(db, { outRefundNo });
  const r = await db.selectFrom('sandbox_refunds').selectAll().where('mch_id', '=', id.merchant.mchId).where('out_refund_no', '=', outRefundNo).executeTakeFirst();
  if (!r) return v3Error(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
  const o = (await findOrder(db, r.mch_id, { out_trade_no: r.out_trade_no }))!;
  return v3Json(200, refundJson(r, o));
}

/** The download token names the bill (date, type) and is keyed with the APIv3 key, so nobody guesses another. */
function billToken(id: V3Identity, date: string, type: string): string {
  const mac = createHmac('sha256', id.raw.apiv3_key).update(`${date}|${type}`).digest('base64url').slice(0, 22);
  return Buffer.from(`${date}|${type}|${mac}`).toString('base64url');
}

/** GET /v3/bill/tradebill?bill_date=YYYY-MM-DD[&bill_type=]: the SHA1 of the file and where to get it (on the caller's origin). */
export async function tradeBillV3(id: V3Identity, q: URLSearchParams, origin: string): Promise<V3Reply> {
  const date = q.get('bill_date') ?? '';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return v3ParamError('bill_date', '格式为YYYY-MM-DD', 'query', date);
  const type = q.get('bill_type') ?? 'ALL';
  if (!['ALL', 'SUCCESS', 'REFUND'].includes(type)) return v3ParamError('bill_type', 'ALL、SUCCESS或REFUND', 'query', type);
  // v3's answers for a bill not made yet and one out of reach, from the tradebill page's error table:
  // STATEMENT_CREATING 账单生成中 ("在T+1日上午8点后再重新下载"), INVALID_REQUEST 请检查bill_date ("仅支持三个月内的账单下载申请").
  const when = billAvailability(date.replace(/-/g, ''), getConfig().sandboxBillReadyHour);
  if (when === 'invalid') return v3ParamError('bill_date', '日期不存在', 'query', date);
  if (when === 'creating') return v3Error(400, 'STATEMENT_CREATING', '账单生成中');
  if (when === 'expired') return v3Error(400, 'INVALID_REQUEST', '参数错误，请检查bill_date：仅支持三个月内的账单下载申请');
  const text = await billText(id.merchant.mchId, date.replace(/-/g, ''), type);
  if (text === undefined) return v3ParamError('bill_date', '日期不存在', 'query', date);
  if (text === null) return v3Error(400, 'NO_STATEMENT_EXIST', '账单不存在');
  return v3Json(200, { hash_type: 'SHA1', hash_value: createHash('sha1').update(text, 'utf8').digest('hex'), download_url: `${origin}/sandbox/mch/v3/billdownload/file?token=${billToken(id, date, type)}` });
}

/** GET /v3/billdownload/file?token=...: the bill file itself, unsigned as WeChat's is. */
export async function billDownloadV3(id: V3Identity, q: URLSearchParams): Promise<V3Reply> {
  const [date, type, mac] = Buffer.from(q.get('token') ?? '', 'base64url').toString('utf8').split('|');
  if (!date || !type || billToken(id, date, type) !== q.get('token') || !mac) return v3ParamError('token', '无效的token', 'query');
  const text = await billText(id.merchant.mchId, date.replace(/-/g, ''), type);
  if (!text) return v3Error(400, 'NO_STATEMENT_EXIST', '账单不存在');
  return { status: 200, body: Buffer.from(text, 'utf8'), contentType: 'text/plain; charset=utf-8', sign: false };
}
