import { getDb } from '../../db';
import { NOTIFY_SUCCESS_XML, notifyFailXml, readRefundNotify } from '../gateway';
import { recordRefusal } from '../kernel';
import { applyRefundResult } from './ledger';

/**
 * POST /api/wechatpay/refund-notify's use case: the raw body in, the reply XML out. Applied
 * idempotently (the refund row leaves `processing` once): SUCCESS for repeats, FAIL (WeChat retries)
 * for anything refused or not stored; each notify leaves one event.
 */
export async function receiveRefundNotify(raw: string): Promise<string> {
  const read = readRefundNotify(raw);
  if (!read.ok) {
    await recordRefusal(await getDb(), { source: 'refund_notify', code: read.code, text: read.text, raw: read.stored, outRefundNo: read.outRefundNo, outTradeNo: read.outTradeNo });
    return notifyFailXml(read.code);
  }
  const { outRefundNo, status, refundId, refundFee } = read.refund;
  try {
    const r = await applyRefundResult({ outRefundNo, status, refundId, refundFee, source: 'refund_notify', raw: read.stored });
    return r.outcome === 'rejected' ? notifyFailXml(r.code) : NOTIFY_SUCCESS_XML;
  } catch (e) {
    console.error(`[refund-notify] ${outRefundNo}: not stored, answering FAIL:`, (e as Error).message);
    return notifyFailXml('SYSTEMERROR');
  }
}

/** A refund notify that could not be read at all: refused with FAIL and recorded with what was read. */
export async function refuseRefundNotify(code: string, text: string, head: string | null): Promise<string> {
  await recordRefusal(await getDb(), { source: 'refund_notify', code, text, raw: head });
  return notifyFailXml(code);
}
