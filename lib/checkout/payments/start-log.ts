import { log } from '../../log';
import { metrics } from '../../metrics';
import type { Plan, StartPaymentResult } from './placing';

/** Which attempt a start ended on and how (reuse, wait, resubmit, place), for its log line. */
export interface StartTrace {
  outTradeNo?: string;
  step?: Plan['kind'];
}

/** Notes the plan made under the lock in the trace (the last plan wins: a re-submission that starts over replans). */
export function tracePlan(trace: StartTrace, plan: Plan): void {
  trace.step = plan.kind;
  if (plan.kind === 'wait') trace.outTradeNo = plan.outTradeNo;
  else if (plan.kind !== 'done') trace.outTradeNo = plan.attempt.out_trade_no;
}

/** Refusals that are the buyer's or the link's, not trouble: logged at info, the rest at warn. */
const ORDINARY = new Set(['INVALID_INPUT', 'NOT_FOUND', 'OAUTH_REQUIRED', 'ALREADY_PAID', 'EXPIRED', 'CLOSED']);

/**
 * Runs one start of a payment (a shop link's or a session's) and writes its one log line and metrics:
 * the outcome (the pay kind or the refusal code), the attempt and step from the trace, the duration.
 * `fields` are the caller's (sku, quantity, mode, the openid, which the logger masks).
 */
export async function loggedStart(fields: Record<string, unknown>, run: (trace: StartTrace) => Promise<StartPaymentResult>): Promise<StartPaymentResult> {
  const started = performance.now();
  const trace: StartTrace = {};
  let r: StartPaymentResult;
  try {
    r = await run(trace);
  } catch (e) {
    log().error({ event: 'start_payment', ...fields, out_trade_no: trace.outTradeNo, outcome: 'error', err: e }, 'startPayment failed');
    metrics().startPayments.inc({ outcome: 'error' });
    throw e;
  }
  const seconds = (performance.now() - started) / 1000;
  const outcome = r.ok ? r.kind : r.code;
  metrics().startPayments.inc({ outcome });
  metrics().startPaymentDuration.observe(seconds);
  const line = {
    // The openid is masked by the logger (lib/log): enough to match a line to the order page, not an identity.
    event: 'start_payment', ...fields, order_id: r.orderId ?? null, out_trade_no: trace.outTradeNo ?? null,
    step: trace.step, amount_fen: r.ok ? r.amountFen : undefined, outcome, duration_ms: Math.round(seconds * 10_000) / 10,
  };
  if (r.ok || ORDINARY.has(r.code)) log().info(line, 'startPayment');
  else log().warn(line, r.message);
  return r;
}
