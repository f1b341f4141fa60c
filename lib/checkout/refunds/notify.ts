import { log } from '../../log';
import { metrics } from '../../metrics';
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
  const started = performance.now();
  const { v3, read } = await readAnyRefundNotify(raw, headers);
  const note = (outcome: string, extra: { code?: string; orderId?: string; outTradeNo?: string | null; outRefundNo?: string | null } = {}) => {
    const seconds = (performance.now() - started) / 1000;
    metrics().notifies.inc({ kind: 'refund', outcome });
    metrics().notifyDuration.observe({ kind: 'refund' }, seconds);
    const line = {
      event: 'notify', kind: 'refund', protocol: v3 ? 'v3' : 'v2', order_id: extra.orderId ?? null, out_trade_no: extra.outTradeNo ?? null,
      out_refund_no: extra.outRefundNo ?? null, outcome, code: extra.code, duration_ms: Math.round(seconds * 10_000) / 10,
    };
    if (outcome === 'error') log().error(line, 'refund notify not stored');
    else if (outcome === 'rejected') log().warn(line, 'refund notify rejected');
    else if (outcome === 'refused') log().debug(line, 'refund notify refused (unverified)'); // anyone can send these: counted, not logged at info
    else log().info(line, 'refund notify');
  };
  if (!read.ok) {
    const { verified } = read;
    await recordRefusal({
      source: 'refund_notify', code: read.code, text: read.text, raw: verified ? read.stored : raw,
      outRefundNo: read.outRefundNo, outTradeNo: read.outTradeNo, verified, sender,
    });
    note(verified ? 'rejected' : 'refused', { code: read.code, outTradeNo: read.outTradeNo, outRefundNo: read.outRefundNo });
    return notifyFail(v3, read.code, { verified });
  }
  const { outRefundNo } = read.refund;
  try {
    const r = await applyRefundResult({ ...read.refund, source: 'refund_notify', raw: read.stored });
    note(r.outcome, r.outcome === 'rejected' ? { code: r.code, outRefundNo } : { orderId: r.refund.order_id, outTradeNo: r.refund.out_trade_no, outRefundNo });
    return r.outcome === 'rejected' ? notifyFail(v3, r.code) : notifyAck(v3);
  } catch (e) {
    note('error', { code: 'SYSTEMERROR', outRefundNo });
    log().error({ event: 'notify', kind: 'refund', out_refund_no: outRefundNo, err: e }, 'refund notify not stored, answering FAIL so WeChat retries');
    return notifyFail(v3, 'SYSTEMERROR');
  }
}

/** A refund notify that could not be read at all: refused with FAIL and counted as unverified with what was read. */
export async function refuseRefundNotify(code: string, text: string, head: string | null, sender: ClientAddress = {}, status?: number): Promise<NotifyAnswer> {
  await recordRefusal({ source: 'refund_notify', code, text, raw: head, verified: false, sender });
  metrics().notifies.inc({ kind: 'refund', outcome: 'refused' });
  log().debug({ event: 'notify', kind: 'refund', order_id: null, out_trade_no: null, outcome: 'refused', code }, 'refund notify refused (unverified)');
  return notifyFail(isV3Head(head), code, { verified: false, status });
}
