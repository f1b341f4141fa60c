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
  await recordRefusal({ source: 'notify', code, text, raw: head, verified: false, sender });
  return { answer: notifyFail(isV3Head(head), code, { verified: false, status }) };
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
  const { v3, read } = await readAnyPaymentNotify(raw, headers);
  if (!read.ok) {
    const { verified } = read;
    await recordRefusal({ source: 'notify', code: read.code, text: read.text, raw, outTradeNo: read.outTradeNo, verified, sender });
    return { answer: notifyFail(v3, read.code, { verified }) };
  }
  const p = read.payment;
  try {
    const r = await applyPayment({ source: 'notify', ...p, raw: read.stored ?? raw });
    if (r.outcome === 'rejected') return { answer: notifyFail(v3, r.code) };
    const refund = r.outcome === 'duplicate_payment' ? r.refund : null;
    return {
      answer: notifyAck(v3),
      // After the answer: if this fails or the process dies first, the reconciler resubmits the
      // processing refund with the same out_refund_no.
      afterResponse: refund
        ? async () => {
            await submitRefund(refund).catch((e) => console.error('[notify] duplicate refund submit failed', e));
          }
        : undefined,
    };
  } catch (e) {
    console.error(`[notify] ${p.outTradeNo}: not stored, answering FAIL so WeChat retries:`, (e as Error).message);
    return { answer: notifyFail(v3, 'SYSTEMERROR') };
  }
}
