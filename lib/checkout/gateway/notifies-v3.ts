import { getConfig } from '../../config';
import { nowIso } from '../../db';
import { WechatPayError } from '../../wechatpay/errors';
import { NOTIFY_SUCCESS_XML, notifyFailXml } from '../../wechatpay/notify';
import { looksLikeV3Notify, parseRfc3339, parseV3Notify, v3NotifyFailBody, type V3Notify } from '../../wechatpay/v3';
import { readPaymentNotify, readRefundNotify, type NotifiedPayment, type NotifiedRefund, type NotifyRefusal } from './notifies';
import { getV3Client, v3Verdict } from './v3';

/** The notify's HTTP headers as plain data (lower-case names): v3 needs the four Wechatpay-* ones. */
export type NotifyHeaders = Record<string, string | undefined>;

/** What the route writes back: WeChat reads the status (v3) or the XML (v2). */
export interface NotifyAnswer {
  status: number;
  body: string;
  contentType: string;
}

const XML = 'text/xml; charset=utf-8';

/** The acknowledgement: v2 the SUCCESS XML with 200; v3 an empty 204 (docs/wechatpay-v3.md §4). */
export function notifyAck(v3: boolean): NotifyAnswer {
  return v3 ? { status: 204, body: '', contentType: 'text/plain' } : { status: 200, body: NOTIFY_SUCCESS_XML, contentType: XML };
}

/**
 * A refusal WeChat will retry: v2 FAIL XML with 200 (405 for a wrong method), v3 `{"code":"FAIL",...}`
 * with 401 for what did not verify, 500 for what we could not store, 400 for anything else.
 */
export function notifyFail(v3: boolean, code: string, how: { verified?: boolean; status?: number } = {}): NotifyAnswer {
  if (!v3) return { status: how.status ?? 200, body: notifyFailXml(code), contentType: XML };
  const status = how.status ?? (code === 'SYSTEMERROR' ? 500 : how.verified === false ? 401 : 400);
  return { status, body: v3NotifyFailBody(code), contentType: 'application/json' };
}

/** lib/wechatpay codes raised after the v3 signature held and the resource decrypted. */
const AFTER_DECRYPT = new Set(['NOTIFY_FIELDS']);

async function readV3(raw: string, headers: NotifyHeaders): Promise<{ ok: true; n: V3Notify; stored: string } | NotifyRefusal> {
  const c = getConfig();
  if (!c.v3) throw new Error('readV3 without v3 settings');
  try {
    const n = await parseV3Notify(
      { timestamp: headers['wechatpay-timestamp'], nonce: headers['wechatpay-nonce'], signature: headers['wechatpay-signature'], serial: headers['wechatpay-serial'] },
      raw,
      { keys: getV3Client().keys, apiV3Key: c.v3.apiV3Key },
    );
    return { ok: true, n, stored: `${raw}\n/* resource decrypted: ${n.plaintext} */` };
  } catch (e) {
    const code = e instanceof WechatPayError ? e.code : 'NOTIFY_FIELDS';
    // A bad signature, serial, timestamp or GCM tag proves nothing: counted, never stored per order.
    return { ok: false, code, text: e instanceof Error ? e.message : 'unreadable v3 notify', verified: AFTER_DECRYPT.has(code) };
  }
}

const int = (v: unknown): number | undefined => (Number.isInteger(v) && (v as number) >= 0 ? (v as number) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * A TRANSACTION.SUCCESS notify in the domain's words, after the signature, the decryption, and the
 * same checks as v2: appid and mchid ours, trade_state SUCCESS, the amount integer fen. The attempt and
 * the amount against it are applyPayment's checks, for both protocols.
 */
async function readV3Payment(raw: string, headers: NotifyHeaders): Promise<{ ok: true; payment: NotifiedPayment; stored: string } | NotifyRefusal> {
  const r = await readV3(raw, headers);
  if (!r.ok) return r;
  const c = getConfig();
  const t = r.n.resource;
  const otn = str(t.out_trade_no) ?? null;
  const refuse = (code: string, text: string): NotifyRefusal => ({ ok: false, code, text, outTradeNo: otn, verified: true });
  if (r.n.envelope.event_type !== 'TRANSACTION.SUCCESS') return refuse('RESULT_FAIL', `event_type ${r.n.envelope.event_type}: not a successful payment, nothing applied`);
  if (t.appid !== c.appId) return refuse('APPID_MISMATCH', `appid ${String(t.appid)} is not ours`);
  if (t.mchid !== c.mchId) return refuse('MCHID_MISMATCH', `mchid ${String(t.mchid)} is not ours`);
  if (t.trade_state !== 'SUCCESS') return refuse('RESULT_FAIL', `trade_state=${String(t.trade_state)}: not a successful payment, nothing applied`);
  const amount = (t.amount ?? {}) as Record<string, unknown>;
  const total = int(amount.total);
  if (!otn || !str(t.transaction_id) || total === undefined) return refuse('NOTIFY_FIELDS', 'resource lacks out_trade_no, transaction_id or an integer amount.total');
  const paid = parseRfc3339(str(t.success_time));
  return {
    ok: true,
    stored: r.stored,
    payment: {
      outTradeNo: otn,
      transactionId: t.transaction_id as string,
      totalFee: total,
      cashFee: amount.payer_total === undefined ? undefined : (int(amount.payer_total) ?? Number.NaN),
      openid: str((t.payer as Record<string, unknown> | undefined)?.openid) ?? null,
      paidAt: paid === undefined ? undefined : nowIso(paid),
      feeType: str(amount.currency),
      cashFeeType: str(amount.payer_currency),
    },
  };
}

const REFUND_EVENTS: Record<string, string> = { 'REFUND.SUCCESS': 'SUCCESS', 'REFUND.ABNORMAL': 'ABNORMAL', 'REFUND.CLOSED': 'CLOSED' };

/** A REFUND.SUCCESS / ABNORMAL / CLOSED notify in the domain's words; ids and amounts are matched by applyRefundResult. */
async function readV3Refund(raw: string, headers: NotifyHeaders): Promise<({ ok: true; refund: NotifiedRefund } | NotifyRefusal) & { stored: string }> {
  const r = await readV3(raw, headers);
  if (!r.ok) return { ...r, stored: raw };
  const t = r.n.resource;
  const ids = { outRefundNo: str(t.out_refund_no) ?? null, outTradeNo: str(t.out_trade_no) ?? null };
  const refuse = (code: string, text: string) => ({ ok: false as const, code, text, ...ids, stored: r.stored, verified: true });
  const expected = REFUND_EVENTS[r.n.envelope.event_type];
  if (!expected) return refuse('BAD_FIELDS', `event_type ${r.n.envelope.event_type} is not a refund notify`);
  if (t.mchid !== getConfig().mchId) return refuse('MCHID_MISMATCH', `mchid ${String(t.mchid)} is not ours`);
  if (t.refund_status !== expected) return refuse('BAD_FIELDS', `refund_status ${String(t.refund_status)} contradicts event_type ${r.n.envelope.event_type}`);
  const amount = (t.amount ?? {}) as Record<string, unknown>;
  const missing = ['out_refund_no', 'out_trade_no', 'transaction_id'].filter((k) => !str(t[k]));
  if (missing.length > 0 || int(amount.refund) === undefined) return refuse('BAD_FIELDS', `resource lacks ${[...missing, ...(int(amount.refund) === undefined ? ['amount.refund'] : [])].join(', ')}: the refund cannot be matched`);
  const verdict = v3Verdict(expected);
  return {
    ok: true,
    stored: r.stored,
    refund: {
      outRefundNo: t.out_refund_no as string,
      outTradeNo: t.out_trade_no as string,
      transactionId: t.transaction_id as string,
      status: verdict as NotifiedRefund['status'],
      refundId: str(t.refund_id),
      refundFee: int(amount.refund)!,
      totalFee: int(amount.total),
      receivedAccount: str(t.user_received_account),
    },
  };
}

/**
 * With v3 configured, a JSON body is a v3 notify; anything else (and everything on a v2-only
 * configuration, where no key could verify JSON) goes to the v2 XML reader, which refuses non-XML.
 */
function isV3(raw: string): boolean {
  return getConfig().v3 !== undefined && looksLikeV3Notify(raw);
}

/** For a body that could not be read whole: answer in v3's form when v3 is on and its head is JSON. */
export function isV3Head(head: string | null): boolean {
  return isV3(head ?? '');
}

/** Either protocol's payment notify, told apart by the body. */
export async function readAnyPaymentNotify(raw: string, headers: NotifyHeaders): Promise<{ v3: boolean; read: ({ ok: true; payment: NotifiedPayment; stored?: string } | NotifyRefusal) }> {
  if (isV3(raw)) return { v3: true, read: await readV3Payment(raw, headers) };
  return { v3: false, read: readPaymentNotify(raw) };
}

/** Either protocol's refund notify, told apart by the body. */
export async function readAnyRefundNotify(raw: string, headers: NotifyHeaders): Promise<{ v3: boolean; read: ({ ok: true; refund: NotifiedRefund } | NotifyRefusal) & { stored: string } }> {
  if (isV3(raw)) return { v3: true, read: await readV3Refund(raw, headers) };
  return { v3: false, read: readRefundNotify(raw) };
}
