import { getConfig } from '../config';
import { parsePaymentNotify } from '../wechatpay/notify';
import type { WxPaymentFields } from '../wechatpay/types';
import { parseWxTime } from '../wechatpay/time';
import { WechatPayError } from '../wechatpay/errors';
import { getDb, nowIso } from '../db';
import { recordEvent } from './events';
import { failXml, readCappedBody, SUCCESS_XML, xmlResponse } from './notify-body';
import { applyPayment } from './payment-apply';
import { submitRefund } from './refunds';

/**
 * POST /api/wechatpay/notify. Every inbound notify leaves exactly one payment_events row: `rejected`
 * with the reason when refused (answered FAIL so WeChat retries), or the applied/duplicate row written
 * in the same transaction as the transition (answered SUCCESS, repeats too). When the row cannot be
 * stored the answer is FAIL: WeChat retries and nothing half-written remains.
 */
export async function handlePaymentNotify(req: Request): Promise<Response> {
  if (req.method !== 'POST') {
    return refuse('METHOD_NOT_ALLOWED', `${req.method} is not a notify (WeChat POSTs XML)`, null, null, 405);
  }
  const body = await readCappedBody(req);
  if (!body.ok) return refuse(body.code, body.detail, body.head, null);
  const raw = body.text;

  const config = getConfig();
  let fields: WxPaymentFields;
  try {
    // Refuses DOCTYPE/ENTITY/oversized/not-XML, then verifies sign with the payload's sign_type, else
    // the configured one (WeChat's payment notify omits sign_type), then return_code.
    fields = parsePaymentNotify(raw, { apiKey: config.apiKey, signType: config.signType });
  } catch (e) {
    const code = e instanceof WechatPayError ? e.code : 'XML_MALFORMED';
    const seen = e instanceof WechatPayError && e.raw && typeof e.raw === 'object' ? (e.raw as Record<string, string>) : {};
    return refuse(code, e instanceof Error ? e.message : 'unreadable notify', raw, seen.out_trade_no || null);
  }
  const otn = fields.out_trade_no;
  if (fields.appid !== config.appId) return refuse('APPID_MISMATCH', `appid ${fields.appid} is not ours`, raw, otn);
  if (fields.mch_id !== config.mchId) return refuse('MCHID_MISMATCH', `mch_id ${fields.mch_id} is not ours`, raw, otn);
  if (fields.result_code !== 'SUCCESS') {
    return refuse('RESULT_FAIL', `result_code=${fields.result_code} ${fields.err_code ?? ''}: not a successful payment, nothing applied`, raw, otn);
  }
  const paidMs = fields.time_end ? parseWxTime(fields.time_end) : undefined;

  try {
    const r = await applyPayment({
      source: 'notify',
      outTradeNo: otn,
      transactionId: fields.transaction_id ?? '',
      totalFee: Number(fields.total_fee),
      openid: fields.openid || null,
      paidAt: paidMs === undefined ? undefined : nowIso(paidMs),
      raw,
    });
    if (r.outcome === 'rejected') return xmlResponse(failXml(r.code));
    if (r.outcome === 'duplicate_payment' && r.refund) {
      // After commit, not awaited: WeChat wants its answer within 5 s. If this fails or the process
      // dies, the reconciler resubmits the processing refund with the same out_refund_no.
      void submitRefund(r.refund).catch((e) => console.error('[notify] duplicate refund submit failed', e));
    }
    return xmlResponse(SUCCESS_XML);
  } catch (e) {
    console.error(`[notify] ${otn}: not stored, answering FAIL so WeChat retries:`, (e as Error).message);
    return xmlResponse(failXml('SYSTEMERROR'));
  }
}

/** Records a refused notify (best effort: when even that cannot be stored, FAIL is still right). */
async function refuse(code: string, text: string, raw: string | null, outTradeNo: string | null, status = 200): Promise<Response> {
  try {
    const db = await getDb();
    let orderId: string | null = null;
    if (outTradeNo) {
      const a = await db.selectFrom('payment_attempts').select('order_id').where('out_trade_no', '=', outTradeNo).executeTakeFirst();
      orderId = a?.order_id ?? null;
    }
    await recordEvent(db, { orderId, outTradeNo, source: 'notify', outcome: 'rejected', detail: `${code}: ${text}`, raw });
  } catch (e) {
    console.error('[notify] could not record a refused notify:', (e as Error).message);
  }
  return xmlResponse(failXml(code), status);
}
