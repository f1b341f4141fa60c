import { log } from '../../log';
import { metrics } from '../../metrics';
import { isV3Head, notifyAck, notifyFail, readAnyPaymentNotify, type NotifyAnswer, type NotifyHeaders } from '../gateway';
import { type ClientAddress, recordRefusal } from '../kernel';
import { submitRefund } from '../refunds';
import { applyPayment } from './apply';

/**
 * The answer to a notify: status, body and content type WeChat reads (v2: the SUCCESS/FAIL XML; v3:
 * 204, or a 4xx/5xx `{"code":"FAIL"}`), and work to run after the response is sent (the route hands it
 * to Next's `after()`), so WeChat gets its answer within its 5 s.
 */
export interface NotifyReply {
  answer: NotifyAnswer;
  afterResponse?: () => Promise<void>;
}

/**
 * A payment notify that could not even be read (too large, not POST, a broken stream): refused with
 * FAIL so WeChat retries, and counted as unverified with whatever head of the body was read.
 * `sender` is where the request came from (the client-IP rule), which tells senders apart for the rate limit.
 */
export async function refusePaymentNotify(code: string, text: string, head: string | null, sender: ClientAddress = {}, status?: number): Promise<NotifyReply> {
  const started = performance.now();
  await recordRefusal({ source: 'notify', code, text, raw: head, verified: false, sender });
  noteNotify(started, { outcome: 'refused', code });
  return { answer: notifyFail(isV3Head(head), code, { verified: false, status }) };
}

/** What one notify line says beyond the timing. */
interface NotifyNote {
  outcome: string;
  code?: string;
  orderId?: string | null;
  outTradeNo?: string | null;
  transactionId?: string;
}

/** One log line and the counters for every payment notify, whatever became of it. */
function noteNotify(started: number, n: NotifyNote): void {
  const seconds = (performance.now() - started) / 1000;
  const m = metrics();
  m.notifies.inc({ kind: 'payment', outcome: n.outcome });
  m.notifyDuration.observe({ kind: 'payment' }, seconds);
  const line = {
    event: 'notify', kind: 'payment', order_id: n.orderId ?? null, out_trade_no: n.outTradeNo ?? null, transaction_id: n.transactionId,
    outcome: n.outcome, code: n.code, duration_ms: Math.round(seconds * 10_000) / 10,
  };
  // Unverified junk is counted (metrics, refused_notifies), and logged at debug only: anyone can send
  // it, and a flood of it must not become a flood of log lines.
  if (n.outcome === 'error') log().error(line, 'payment notify not stored');
  else if (n.outcome === 'rejected') log().warn(line, 'payment notify rejected');
  else if (n.outcome === 'refused') log().debug(line, 'payment notify refused (unverified)');
  else log().info(line, 'payment notify');
}

/**
 * POST /api/wechatpay/notify's use case: the raw body in, the reply out. A notify whose signature held
 * leaves exactly one payment_events row: `rejected` with the reason when refused (answered FAIL so WeChat
 * retries), or the applied/duplicate row written in the same transaction as the transition (answered
 * SUCCESS, repeats too). When the row cannot be stored the answer is FAIL: WeChat retries and nothing
 * half-written remains. One that did not verify is answered FAIL and only counted (kernel
 * recordRefusal): it proves nothing, and a flood of them must not fill the disk or slow real notifies.
 * v2 XML and v3 JSON arrive here alike (the body tells them apart; `headers` carry v3's signature):
 * both go through the same checks and the same applyPayment, and are answered in their own form.
 */
export async function receivePaymentNotify(raw: string, sender: ClientAddress = {}, headers: NotifyHeaders = {}): Promise<NotifyReply> {
  const started = performance.now();
  const { v3, read } = await readAnyPaymentNotify(raw, headers);
  if (!read.ok) {
    const { verified } = read;
    await recordRefusal({ source: 'notify', code: read.code, text: read.text, raw, outTradeNo: read.outTradeNo, verified, sender });
    noteNotify(started, { outcome: verified ? 'rejected' : 'refused', code: read.code, outTradeNo: read.outTradeNo });
    return { answer: notifyFail(v3, read.code, { verified }) };
  }
  const p = read.payment;
  try {
    const r = await applyPayment({ source: 'notify', ...p, raw: read.stored ?? raw });
    noteNotify(started, { outcome: r.outcome, code: r.outcome === 'rejected' ? r.code : undefined, orderId: r.orderId, outTradeNo: p.outTradeNo, transactionId: p.transactionId });
    if (r.outcome === 'rejected') return { answer: notifyFail(v3, r.code) };
    const refund = r.outcome === 'duplicate_payment' ? r.refund : null;
    return {
      answer: notifyAck(v3),
      // After the answer: if this fails or the process dies first, the reconciler resubmits the
      // processing refund with the same out_refund_no.
      afterResponse: refund
        ? async () => {
            await submitRefund(refund).catch((e) =>
              log().error({ event: 'refund', order_id: refund.order_id, out_trade_no: refund.out_trade_no, out_refund_no: refund.out_refund_no, err: e }, 'duplicate payment refund not submitted; the reconciler retries it'),
            );
          }
        : undefined,
    };
  } catch (e) {
    noteNotify(started, { outcome: 'error', code: 'SYSTEMERROR', outTradeNo: p.outTradeNo, transactionId: p.transactionId });
    log().error({ event: 'notify', out_trade_no: p.outTradeNo, err: e }, 'payment notify not stored, answering FAIL so WeChat retries');
    return { answer: notifyFail(v3, 'SYSTEMERROR') };
  }
}
