import { getConfig } from '../config';
import { getDb } from '../db';
import { WechatPayError } from '../wechatpay/errors';
import { parseRefundNotify } from '../wechatpay/notify';
import { recordEvent } from './events';
import { failXml, readCappedBody, SUCCESS_XML, xmlResponse } from './notify-body';
import { applyRefundResult, type RefundVerdict } from './refund-book';

const VERDICTS: RefundVerdict[] = ['SUCCESS', 'REFUNDCLOSE', 'CHANGE'];

/**
 * POST /api/wechatpay/refund-notify. The outer XML is unsigned: what authenticates it is that req_info
 * decrypts with md5(API key). Applied idempotently (the refund row leaves `processing` once), SUCCESS
 * for repeats, FAIL (WeChat retries) for anything refused or not stored; each leaves one event.
 */
export async function handleRefundNotify(req: Request): Promise<Response> {
  if (req.method !== 'POST') return refuse('METHOD_NOT_ALLOWED', `${req.method} is not a refund notify`, null, null, null, 405);
  const body = await readCappedBody(req);
  if (!body.ok) return refuse(body.code, body.detail, body.head, null, null);
  const raw = body.text;
  const config = getConfig();
  let outer: Record<string, string>;
  let info: Record<string, string | undefined>;
  try {
    ({ outer, info } = parseRefundNotify(raw, { apiKey: config.apiKey }));
  } catch (e) {
    const code = e instanceof WechatPayError ? e.code : 'XML_MALFORMED';
    return refuse(code, e instanceof Error ? e.message : 'unreadable refund notify', raw, null, null);
  }
  const stored = `${raw}\n<!-- req_info decrypted: ${JSON.stringify(info)} -->`;
  const outRefundNo = info.out_refund_no!;
  if (outer.appid !== config.appId) return refuse('APPID_MISMATCH', `appid ${outer.appid} is not ours`, stored, outRefundNo, info.out_trade_no);
  if (outer.mch_id !== config.mchId) return refuse('MCHID_MISMATCH', `mch_id ${outer.mch_id} is not ours`, stored, outRefundNo, info.out_trade_no);
  const status = info.refund_status as RefundVerdict;
  if (!VERDICTS.includes(status)) return refuse('BAD_FIELDS', `refund_status "${info.refund_status}" unknown`, stored, outRefundNo, info.out_trade_no);
  const fee = info.refund_fee;
  if (fee !== undefined && !/^\d+$/.test(fee)) return refuse('BAD_FIELDS', `refund_fee "${fee}" is not integer fen`, stored, outRefundNo, info.out_trade_no);
  try {
    const r = await applyRefundResult({
      outRefundNo, status, refundId: info.refund_id, refundFee: fee === undefined ? undefined : Number(fee), source: 'refund_notify', raw: stored,
    });
    return xmlResponse(r.outcome === 'rejected' ? failXml(r.code) : SUCCESS_XML);
  } catch (e) {
    console.error(`[refund-notify] ${outRefundNo}: not stored, answering FAIL:`, (e as Error).message);
    return xmlResponse(failXml('SYSTEMERROR'));
  }
}

async function refuse(code: string, text: string, raw: string | null, outRefundNo: string | null, outTradeNo: string | null | undefined, status = 200) {
  try {
    const db = await getDb();
    let orderId: string | null = null;
    if (outRefundNo) {
      const r = await db.selectFrom('refunds').select(['order_id', 'out_trade_no']).where('out_refund_no', '=', outRefundNo).executeTakeFirst();
      orderId = r?.order_id ?? null;
      outTradeNo = r?.out_trade_no ?? outTradeNo;
    }
    await recordEvent(db, { orderId, outTradeNo: outTradeNo ?? null, source: 'refund_notify', outcome: 'rejected', detail: `${code}: ${text}`, raw });
  } catch (e) {
    console.error('[refund-notify] could not record a refused notify:', (e as Error).message);
  }
  return xmlResponse(failXml(code), status);
}
