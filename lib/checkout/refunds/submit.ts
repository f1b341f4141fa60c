import { getConfig } from '../../config';
import { getDb, nowIso } from '../../db';
import { log } from '../../log';
import { metrics } from '../../metrics';
import type { Refund } from '../../db/schema';
import { queryRefund, refundAtWechat, refundRefusal } from '../gateway';
import { recordEvent, writeTransaction } from '../kernel';
import { emitRefundEvent } from '../webhooks';
import { applyRefundResult, type RefundOrigin, reserveRefund } from './ledger';

/** A refund a merchant (or the duplicate-payment rule) asks for. */
export interface RefundRequest {
  orderId: string;
  amountFen: number;
  reason: string;
  origin: RefundOrigin;
  outTradeNo?: string;
}

/**
 * The refund row as it stands after the call, or why it was refused. `confirmed`: WeChat answered that
 * it accepted the refund. When false the amount stays reserved and the refund `processing`: WeChat's
 * answer was lost or it asked to retry, and the reconciler asks again (refundquery, then the same
 * out_refund_no re-sent), so it is paid out at most once. On a refusal, `refund` is the row WeChat
 * refused (now failed), when one was reserved before the refusal.
 */
export type RefundResult = { ok: true; refund: Refund; confirmed: boolean } | { ok: false; code: string; message: string; refund?: Refund };

/** Live refunds go over mutual TLS with apiclient_cert.p12: without it, say exactly what is missing. */
export function refundsUnavailable(): string | null {
  const c = getConfig();
  // API v3 refunds need no client certificate: the request's RSA signature is the proof.
  if (c.mode === 'live' && c.apiVersion === 'v2' && !c.certP12Path) {
    return 'WECHATPAY_CERT_P12 is not set: live refunds need the merchant certificate apiclient_cert.p12 (download it in the WeChat Pay merchant portal; its passphrase is the mch_id)';
  }
  return null;
}

/**
 * Refunds part or all of a paid attempt: reserves the amount against what is left (one transaction,
 * so concurrent requests never over-refund), then asks WeChat. The refund stays `processing` until
 * the refund notify or a refundquery says how it ended.
 */
export async function requestRefund(input: RefundRequest): Promise<RefundResult> {
  const missing = refundsUnavailable();
  if (missing) return { ok: false, code: 'CERT_REQUIRED', message: missing };
  const reserved = await writeTransaction((trx) => reserveRefund(trx, input));
  if (!reserved.ok) {
    log().info({ event: 'refund', action: 'request', order_id: input.orderId, amount_fen: input.amountFen, origin: input.origin, outcome: 'refused', code: reserved.code }, reserved.message);
    return reserved;
  }
  metrics().refunds.inc({ status: 'processing' });
  return submitRefund(reserved.refund);
}

/**
 * Sends a reserved refund to WeChat (again, with the same out_refund_no, when retrying: WeChat treats
 * that as the same refund). A business refusal marks it failed, which frees the amount; a network
 * failure or a retryable error leaves it processing for the reconciler.
 */
export async function submitRefund(refund: Refund): Promise<RefundResult> {
  const started = performance.now();
  const r = await submitRefundOnce(refund);
  const outcome = !r.ok ? 'refused' : r.confirmed ? 'accepted' : 'unconfirmed';
  if (!r.ok) metrics().refunds.inc({ status: 'failed' });
  const line = {
    event: 'refund', action: 'submit', order_id: refund.order_id, out_trade_no: refund.out_trade_no, out_refund_no: refund.out_refund_no,
    amount_fen: refund.amount_fen, origin: refund.origin, outcome, code: r.ok ? undefined : r.code, duration_ms: Math.round((performance.now() - started) * 10) / 10,
  };
  if (outcome === 'accepted') log().info(line, 'refund submitted');
  else log().warn(line, r.ok ? r.refund.detail ?? 'refund not confirmed' : r.message);
  return r;
}

async function submitRefundOnce(refund: Refund): Promise<RefundResult> {
  const db = await getDb();
  const attempt = await db.selectFrom('payment_attempts').select(['amount_fen']).where('out_trade_no', '=', refund.out_trade_no).executeTakeFirstOrThrow();
  const ev = { orderId: refund.order_id, outTradeNo: refund.out_trade_no, source: 'refund' as const };
  try {
    const r = await refundAtWechat({ outTradeNo: refund.out_trade_no, outRefundNo: refund.out_refund_no, totalFee: attempt.amount_fen, refundFee: refund.amount_fen, reason: refund.reason });
    await db
      .updateTable('refunds')
      .set({ refund_id: r.refundId ?? refund.refund_id, detail: 'accepted by WeChat, waiting for the result', updated_at: nowIso() })
      .where('out_refund_no', '=', refund.out_refund_no)
      .where('status', '=', 'processing')
      .execute();
    const fresh = await db.selectFrom('refunds').selectAll().where('out_refund_no', '=', refund.out_refund_no).executeTakeFirstOrThrow();
    return { ok: true, refund: fresh, confirmed: true };
  } catch (e) {
    const refusal = refundRefusal(e);
    const { code, reason: message } = refusal;
    // A final refusal (a business err_code, or return_code=FAIL on the request: bad parameter, 签名错误)
    // ends the refund failed with WeChat's reason and frees its amount; left processing, the reconciler
    // would resubmit it every sweep for ever and get the same answer.
    if (refusal.kind === 'final') {
      await writeTransaction(async (trx) => {
        const upd = await trx
          .updateTable('refunds')
          .set({ status: 'failed', detail: `${code}: ${message}`, updated_at: nowIso() })
          .where('out_refund_no', '=', refund.out_refund_no)
          .where('status', '=', 'processing')
          .executeTakeFirst();
        if (Number(upd.numUpdatedRows) > 0) {
          await recordEvent(trx, { ...ev, outcome: 'error', detail: `refund ${refund.out_refund_no} refused by WeChat: ${code} ${message}` });
          await emitRefundEvent(trx, 'refund.failed', refund.out_refund_no);
        }
      });
      const failed = await db.selectFrom('refunds').selectAll().where('out_refund_no', '=', refund.out_refund_no).executeTakeFirst();
      return { ok: false, code, message, refund: failed };
    }
    const detail = `not confirmed yet (${code}: ${message}); will retry`;
    await db.updateTable('refunds').set({ detail, updated_at: nowIso() })
      .where('out_refund_no', '=', refund.out_refund_no).where('status', '=', 'processing').execute();
    // Once per distinct failure: the reconciler retries every sweep, the timeline should not fill up.
    if (refund.detail !== detail) {
      await recordEvent(db, { ...ev, outcome: 'error', detail: `refund ${refund.out_refund_no} not confirmed (${code}: ${message}); the reconciler retries it` });
    }
    const fresh = await db.selectFrom('refunds').selectAll().where('out_refund_no', '=', refund.out_refund_no).executeTakeFirstOrThrow();
    return { ok: true, refund: fresh, confirmed: false };
  }
}

/**
 * Asks WeChat how a refund ended (refundquery) and applies it. A processing refund WeChat never
 * received (REFUNDNOTEXIST: our submit was lost) is submitted again with the same out_refund_no; any
 * other refund (an abnormal one a merchant re-checks after settling it in the portal) never is: its
 * money already left the merchant's account once.
 */
export async function followRefund(refund: Refund): Promise<string> {
  const q = await queryRefund(refund.out_refund_no);
  if (q === null) {
    if (refund.status !== 'processing') return `${refund.out_refund_no}: WeChat has no such refund (REFUNDNOTEXIST); left ${refund.status}`;
    const r = await submitRefund(refund);
    return r.ok ? `resubmitted ${refund.out_refund_no}` : `resubmit of ${refund.out_refund_no} refused: ${r.code}`;
  }
  const { raw, ...said } = q;
  const r = await applyRefundResult({ ...said, outRefundNo: refund.out_refund_no, source: 'refund', raw });
  return `${refund.out_refund_no}: ${q.status} (${r.outcome}${r.outcome === 'rejected' ? ` ${r.code}` : ''})`;
}
