/**
 * Fault injection (POST /sandbox/sim/faults). Kept in process memory on globalThis, not in the database:
 * the sandbox is one server process, a fault is a test's short-lived instruction, and a restart clearing
 * them is the least surprising outcome. globalThis because Next bundles route handlers separately.
 */
export const FAULT_APIS = ['unifiedorder', 'orderquery', 'closeorder', 'refund', 'refundquery', 'downloadbill'] as const;
export type FaultApi = (typeof FAULT_APIS)[number];
export const FAULT_KINDS = [
  'SYSTEMERROR', 'RETURN_SYSTEMERROR', 'HTTP500', 'DELAY', 'DROP_RESPONSE', 'DROP_NOTIFY', 'DUPLICATE_NOTIFY',
  'NOTENOUGH', 'BIZERR_NEED_RETRY', 'FREQUENCY_LIMITED', 'USER_ACCOUNT_ABNORMAL', 'REFUNDCLOSE', 'CHANGE',
] as const;

/**
 * The refund API's own refusals, answered signed (result_code=FAIL) instead of the call, with the texts
 * merchants report (developers.weixin.qq.com community, found with `search`): NOTENOUGH "基本账户余额不足，
 * 请充值后重新发起"; FREQUENCY_LIMITED "频率限制，超过2个月之前的订单申请退款请降低频率再重试"; USER_ACCOUNT_ABNORMAL
 * "用户账户异常或已注销，不能原路退回，请使用其他方式进行退款。"; BIZERR_NEED_RETRY from the refund page's error
 * list ("并发情况下，业务被拒绝，商户重试即可解决").
 */
export const REFUND_ERRORS: Partial<Record<FaultKind, string>> = {
  NOTENOUGH: '基本账户余额不足，请充值后重新发起',
  BIZERR_NEED_RETRY: '退款业务流程错误，需要商户触发重试来解决',
  FREQUENCY_LIMITED: '频率限制，超过2个月之前的订单申请退款请降低频率再重试',
  USER_ACCOUNT_ABNORMAL: '用户账户异常或已注销，不能原路退回，请使用其他方式进行退款。',
};
/** Faults that make the next accepted refund end this way instead of SUCCESS. */
const REFUND_OUTCOMES = new Set<string>(['REFUNDCLOSE', 'CHANGE']);
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  id: number;
  api: FaultApi | '*';
  fault: FaultKind;
  remaining: number;
  delayMs: number;
  createdAt: string;
}

type Store = { seq: number; faults: Fault[] };
const key = Symbol.for('wechat-checkout.sandbox-faults');

function store(): Store {
  const g = globalThis as { [key]?: Store };
  return (g[key] ??= { seq: 0, faults: [] });
}

export type FaultInput = { api?: FaultApi | '*'; fault: FaultKind; count: number; delayMs?: number };

export type FaultParse = { ok: true; value: FaultInput } | { ok: false; message: string };

/** Validates a faults request body; nothing is stored on error. */
export function parseFaultInput(raw: unknown): FaultParse {
  if (typeof raw !== 'object' || raw === null) return { ok: false, message: 'body must be a JSON object' };
  const r = raw as Record<string, unknown>;
  if (!FAULT_KINDS.includes(r.fault as FaultKind)) return { ok: false, message: `fault must be one of ${FAULT_KINDS.join(', ')}` };
  const api = r.api ?? '*';
  if (api !== '*' && !FAULT_APIS.includes(api as FaultApi)) return { ok: false, message: `api must be '*' or one of ${FAULT_APIS.join(', ')}` };
  if (!Number.isInteger(r.count) || (r.count as number) < 1 || (r.count as number) > 1000) return { ok: false, message: 'count must be an integer from 1 to 1000' };
  const fault = r.fault as FaultKind;
  // FREQUENCY_LIMITED is every API's rate refusal (v2 err_code, v3 429); only on refund does it carry the refund's text.
  if (((REFUND_ERRORS[fault] !== undefined && fault !== 'FREQUENCY_LIMITED') || REFUND_OUTCOMES.has(fault)) && api !== 'refund') return { ok: false, message: `${fault} is a refund fault: api must be "refund"` };
  let delayMs = 0;
  if (fault === 'DELAY') {
    if (!Number.isInteger(r.delayMs) || (r.delayMs as number) < 1 || (r.delayMs as number) > 120_000) {
      return { ok: false, message: 'DELAY needs delayMs, an integer from 1 to 120000' };
    }
    delayMs = r.delayMs as number;
  }
  return { ok: true, value: { api: api as FaultApi | '*', fault, count: r.count as number, delayMs } };
}

export function addFault(input: FaultInput): Fault {
  const s = store();
  const f: Fault = {
    id: ++s.seq,
    api: input.api ?? '*',
    fault: input.fault,
    remaining: input.count,
    delayMs: input.delayMs ?? 0,
    createdAt: new Date().toISOString(),
  };
  s.faults.push(f);
  return f;
}

export function clearFaults(): void {
  store().faults = [];
}

export function activeFaults(): Fault[] {
  return store().faults.filter((f) => f.remaining > 0).map((f) => ({ ...f }));
}

function take(pred: (f: Fault) => boolean): Fault | undefined {
  const s = store();
  const f = s.faults.find((x) => x.remaining > 0 && pred(x));
  if (!f) return undefined;
  f.remaining -= 1;
  s.faults = s.faults.filter((x) => x.remaining > 0);
  return { ...f };
}

/**
 * The API faults for one call: at most one delay, one failure (SYSTEMERROR, RETURN_SYSTEMERROR, HTTP500) and one
 * dropped response, each consumed. A failure is answered instead of the call; DROP_RESPONSE lets the
 * call run (and commit) and then loses its answer.
 */
export function takeApiFaults(api: FaultApi): { delayMs: number; failure?: ApiFailure; dropResponse: boolean } {
  const match = (f: Fault) => f.api === '*' || f.api === api;
  const delay = take((f) => f.fault === 'DELAY' && match(f));
  const failure = take((f) => FAILURES.has(f.fault) && match(f));
  const drop = failure ? undefined : take((f) => f.fault === 'DROP_RESPONSE' && match(f));
  return { delayMs: delay?.delayMs ?? 0, failure: failure?.fault as ApiFailure | undefined, dropResponse: drop !== undefined };
}

/**
 * Faults answered instead of the call: SYSTEMERROR (signed result_code=FAIL), RETURN_SYSTEMERROR
 * (unsigned return_code=FAIL 系统错误稍后再试: WeChat's transient refusal, e.g.
 * https://developers.weixin.qq.com/community/pay/doc/000c601a580e108d06aad542b51400), HTTP500.
 */
export type ApiFailure = 'SYSTEMERROR' | 'RETURN_SYSTEMERROR' | 'HTTP500' | 'NOTENOUGH' | 'BIZERR_NEED_RETRY' | 'FREQUENCY_LIMITED' | 'USER_ACCOUNT_ABNORMAL';
const FAILURES = new Set<FaultKind>(['SYSTEMERROR', 'RETURN_SYSTEMERROR', 'HTTP500', 'NOTENOUGH', 'BIZERR_NEED_RETRY', 'FREQUENCY_LIMITED', 'USER_ACCOUNT_ABNORMAL']);

/** For a refund WeChat accepts: end it REFUNDCLOSE or CHANGE (a pending fault, consumed), or normally. */
export function takeRefundOutcome(): 'REFUNDCLOSE' | 'CHANGE' | undefined {
  return take((f) => REFUND_OUTCOMES.has(f.fault))?.fault as 'REFUNDCLOSE' | 'CHANGE' | undefined;
}

/** For one payment or refund notify about to be queued: drop it, send it twice, or neither. */
export function takeNotifyFault(): 'DROP_NOTIFY' | 'DUPLICATE_NOTIFY' | undefined {
  return take((f) => f.fault === 'DROP_NOTIFY' || f.fault === 'DUPLICATE_NOTIFY')?.fault as 'DROP_NOTIFY' | 'DUPLICATE_NOTIFY' | undefined;
}
