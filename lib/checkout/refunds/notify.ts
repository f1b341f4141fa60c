import { isV3Head, notifyAck, notifyFail, readAnyRefundNotify, type NotifyAnswer, type NotifyHeaders } from '../gateway';
import { type ClientAddress, recordRefusal } from '../kernel';
import { applyRefundResult } from './ledger';

/**
 * POST /api/wechatpay/refund-notify's use case: the raw body (v2 XML or v3 JSON, with v3's signature
 * headers) in, the answer out (v2: SUCCESS/FAIL XML; v3: 204 or a 4xx/5xx FAIL JSON). Applied
 * idempotently (the refund row leaves `processing` once): SUCCESS for repeats, FAIL (WeChat retries)
 * for anything refused or not stored, including a notify whose out_trade_no, transaction_id or
 * refund_fee is not the stored refund's. Each notify whose req_info decrypted leaves one event; one that
 * did not is only counted (kernel recordRefusal), whatever refund it claims.
 */
export async function receiveRefundNotify(raw: string, sender: ClientAddress = {}, headers: NotifyHeaders = {}): Promise<NotifyAnswer> {
  const { v3, read } = await readAnyRefundNotify(raw, headers);
  if (!read.ok) {
    const { verified } = read;
    await recordRefusal({
      source: 'refund_notify', code: read.code, text: read.text, raw: verified ? read.stored : raw,
      outRefundNo: read.outRefundNo, outTradeNo: read.outTradeNo, verified, sender,
    });
    return notifyFail(v3, read.code, { verified });
  }
  const { outRefundNo } = read.refund;
  try {
    const r = await applyRefundResult({ ...read.refund, source: 'refund_notify', raw: read.stored });
    return r.outcome === 'rejected' ? notifyFail(v3, r.code) : notifyAck(v3);
  } catch (e) {
    console.error(`[refund-notify] ${outRefundNo}: not stored, answering FAIL:`, (e as Error).message);
    return notifyFail(v3, 'SYSTEMERROR');
  }
}

/** A refund notify that could not be read at all: refused with FAIL and counted as unverified with what was read. */
export async function refuseRefundNotify(code: string, text: string, head: string | null, sender: ClientAddress = {}, status?: number): Promise<NotifyAnswer> {
  await recordRefusal({ source: 'refund_notify', code, text, raw: head, verified: false, sender });
  return notifyFail(isV3Head(head), code, { verified: false, status });
}
