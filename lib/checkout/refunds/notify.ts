import { NOTIFY_SUCCESS_XML, notifyFailXml, readRefundNotify } from '../gateway';
import { type ClientAddress, recordRefusal } from '../kernel';
import { applyRefundResult } from './ledger';

/**
 * POST /api/wechatpay/refund-notify's use case: the raw body in, the reply XML out. Applied
 * idempotently (the refund row leaves `processing` once): SUCCESS for repeats, FAIL (WeChat retries)
 * for anything refused or not stored, including a notify whose out_trade_no, transaction_id or
 * refund_fee is not the stored refund's. Each notify whose req_info decrypted leaves one event; one that
 * did not is only counted (kernel recordRefusal), whatever refund it claims.
 */
export async function receiveRefundNotify(raw: string, sender: ClientAddress = {}): Promise<string> {
  const read = readRefundNotify(raw);
  if (!read.ok) {
    const { verified } = read;
    await recordRefusal({
      source: 'refund_notify', code: read.code, text: read.text, raw: verified ? read.stored : raw,
      outRefundNo: read.outRefundNo, outTradeNo: read.outTradeNo, verified, sender,
    });
    return notifyFailXml(read.code);
  }
  const { outRefundNo } = read.refund;
  try {
    const r = await applyRefundResult({ ...read.refund, source: 'refund_notify', raw: read.stored });
    return r.outcome === 'rejected' ? notifyFailXml(r.code) : NOTIFY_SUCCESS_XML;
  } catch (e) {
    console.error(`[refund-notify] ${outRefundNo}: not stored, answering FAIL:`, (e as Error).message);
    return notifyFailXml('SYSTEMERROR');
  }
}

/** A refund notify that could not be read at all: refused with FAIL and counted as unverified with what was read. */
export async function refuseRefundNotify(code: string, text: string, head: string | null, sender: ClientAddress = {}): Promise<string> {
  await recordRefusal({ source: 'refund_notify', code, text, raw: head, verified: false, sender });
  return notifyFailXml(code);
}
