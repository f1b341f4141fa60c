import type { Kysely } from 'kysely';
import { type Database, getDb, nowIso } from '../../db';
import type { PaymentAttempt, TradeType } from '../../db/schema';
import { recordEvent, writeTransaction } from '../kernel';

/**
 * Payment-attempt rows for startPayment. A new attempt is written BEFORE unifiedorder as a claim, with
 * status `failed` and no prepay_id/code_url: nothing else (reconciler, status polls, notify) acts on a
 * failed attempt, and if this process dies mid-call the row already tells the truth (the buyer never
 * got anything to pay with). Once WeChat answers, the claim becomes `open` with its prepay; if WeChat
 * refuses, the claim is deleted. Concurrent callers that find a fresh claim wait for it instead of
 * placing a second unifiedorder, so no database connection or lock is held while WeChat is called.
 *
 * When no answer came back at all (timeout, connection dropped: gateway.outcomeUnknown), WeChat may hold
 * the trade, so the claim is kept as an `open` attempt without prepay_id/code_url ("unanswered"). The
 * buyer's next tap re-submits that same out_trade_no with the same fields, which WeChat answers with the
 * trade it already has (or places it now): one WeChat trade per attempt, never a second payable one. Until
 * then the reconciler treats it as any open attempt (orderquery, closeorder at expiry).
 */

/** prepay_id and code_url live 2 hours at WeChat whatever time_expire says. */
const PREPAY_LIFETIME_MS = 2 * 60 * 60 * 1000;
/** Do not hand out a prepay that dies while the buyer is still looking at the sheet or QR. */
const REUSE_MARGIN_MS = 30 * 1000;
/**
 * An mweb_url lives 5 minutes (gateway.MWEB_URL_TTL_MS); one issued longer ago than this is not handed
 * out again: the buyer needs the rest to reach WeChat's cashier and pay.
 */
export const MWEB_REUSE_MS = 5 * 60 * 1000 - 60 * 1000;
/** A claim older than this belongs to a call that died: ignore it (the client's timeouts end well before). */
const CLAIM_TTL_MS = 30 * 1000;

/** The buyer's still-payable order for this sku and quantity, made within the payment window. */
export function findOpenOrder(db: Kysely<Database>, o: { buyerId: string; sku: string; quantity: number; amountFen: number; now: number; ttlMinutes: number }) {
  return db
    .selectFrom('orders')
    .selectAll()
    .where('buyer_id', '=', o.buyerId)
    .where('sku', '=', o.sku)
    .where('status', '=', 'pending')
    .where('quantity', '=', o.quantity)
    .where('amount_fen', '=', o.amountFen)
    .where('created_at', '>', nowIso(o.now - o.ttlMinutes * 60_000))
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}

interface AttemptKey {
  orderId: string;
  tradeType: TradeType;
  openid: string | null;
  signType: string;
  /** The buyer's IP now: an mweb_url is honoured only from the IP its order was placed for. */
  clientIp?: string;
  now: number;
}

function sameKind(db: Kysely<Database>, k: AttemptKey) {
  let q = db.selectFrom('payment_attempts').selectAll().where('order_id', '=', k.orderId).where('trade_type', '=', k.tradeType).where('sign_type', '=', k.signType);
  if (k.tradeType === 'JSAPI') q = q.where('openid', '=', k.openid);
  return q;
}

/** An open attempt of the same trade type (and openid, and sign type) that WeChat will still honour. */
export function findReusableAttempt(db: Kysely<Database>, k: AttemptKey) {
  let q = sameKind(db, k)
    .where('status', '=', 'open')
    .where('expires_at', '>', nowIso(k.now + REUSE_MARGIN_MS))
    .where('created_at', '>', nowIso(k.now - PREPAY_LIFETIME_MS + REUSE_MARGIN_MS));
  if (k.tradeType === 'JSAPI') q = q.where('prepay_id', 'is not', null);
  else if (k.tradeType === 'NATIVE') q = q.where('code_url', 'is not', null);
  // MWEB: only while its mweb_url is fresh. A stale one is never re-sent (WeChat shows 支付请求已失效);
  // whether re-submitting its out_trade_no yields a fresh URL is not documented, so a fresh trade is placed.
  // Only for the buyer IP it was placed for: WeChat's cashier refuses it from any other
  // (网络环境未能通过安全验证，请稍后再试), so a buyer whose network changed gets a fresh trade.
  else q = q.where('mweb_url', 'is not', null).where('mweb_url_at', '>', nowIso(k.now - MWEB_REUSE_MS)).where('client_ip', '=', k.clientIp ?? '');
  return q.orderBy('created_at', 'desc').executeTakeFirst();
}

/** Re-submitting needs time_expire at least 1 minute ahead (WeChat's minimum window), with room to pay. */
const RESUBMIT_MARGIN_MS = 2 * 60 * 1000;

/** An unanswered attempt of the same kind that may be re-submitted as is (see the header). */
export function findUnanswered(db: Kysely<Database>, k: AttemptKey) {
  return sameKind(db, k)
    .where('status', '=', 'open')
    .where('prepay_id', 'is', null)
    .where('code_url', 'is', null)
    .where('mweb_url', 'is', null)
    .where('expires_at', '>', nowIso(k.now + RESUBMIT_MARGIN_MS))
    .where('created_at', '>', nowIso(k.now - PREPAY_LIFETIME_MS + REUSE_MARGIN_MS))
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}

/** unifiedorder got no answer: the claim stays, as an open attempt without prepay (WeChat may hold it). */
export async function keepUnanswered(outTradeNo: string): Promise<void> {
  const db = await getDb();
  await db
    .updateTable('payment_attempts')
    .set({ status: 'open', updated_at: nowIso() })
    .where('out_trade_no', '=', outTradeNo)
    .where('status', '=', 'failed')
    .where('prepay_id', 'is', null)
    .where('code_url', 'is', null)
    .where('mweb_url', 'is', null)
    .execute();
}

/** What WeChat gave to pay with (gateway.PlacedOrder). */
export interface Placed {
  prepayId: string | null;
  codeUrl: string | null;
  mwebUrl: string | null;
}

/** The columns an answer fills: an mweb_url is stamped with when it was issued (it lives 5 minutes). */
function placedColumns(p: Placed) {
  const at = nowIso();
  return { prepay_id: p.prepayId, code_url: p.codeUrl, mweb_url: p.mwebUrl, mweb_url_at: p.mwebUrl ? at : null, updated_at: at };
}

/** A re-submission was answered: the unanswered attempt gets its prepay (the first answer wins; the same trade anyway). */
export async function answerUnanswered(outTradeNo: string, placed: Placed): Promise<PaymentAttempt> {
  const db = await getDb();
  await db
    .updateTable('payment_attempts')
    .set(placedColumns(placed))
    .where('out_trade_no', '=', outTradeNo)
    .where('status', '=', 'open')
    .where('prepay_id', 'is', null)
    .where('code_url', 'is', null)
    .where('mweb_url', 'is', null)
    .execute();
  return db.selectFrom('payment_attempts').selectAll().where('out_trade_no', '=', outTradeNo).executeTakeFirstOrThrow();
}

/**
 * An unanswered attempt WeChat refused to re-submit and that could not be closed there either: closed
 * here, so it is not offered again. Nobody ever saw its prepay_id, so nobody can pay it; should WeChat
 * report it paid all the same, applyPayment still takes the payment (a closed attempt may become paid).
 */
export async function retireUnanswered(outTradeNo: string): Promise<void> {
  await writeTransaction(async (trx) => {
    const a = await trx.selectFrom('payment_attempts').select('order_id').where('out_trade_no', '=', outTradeNo).executeTakeFirst();
    const upd = await trx.updateTable('payment_attempts').set({ status: 'closed', updated_at: nowIso() })
      .where('out_trade_no', '=', outTradeNo).where('status', '=', 'open').where('prepay_id', 'is', null).where('code_url', 'is', null).where('mweb_url', 'is', null)
      .executeTakeFirst();
    if (Number(upd.numUpdatedRows) === 0) return;
    await recordEvent(trx, { orderId: a?.order_id, outTradeNo, source: 'close', outcome: 'applied', detail: 'unanswered unifiedorder refused on re-submission and not closable at WeChat now; attempt closed here' });
  });
}

/** A claim another call is placing at WeChat right now. */
export function findClaim(db: Kysely<Database>, k: AttemptKey) {
  return sameKind(db, k)
    .where('status', '=', 'failed')
    .where('prepay_id', 'is', null)
    .where('code_url', 'is', null)
    .where('created_at', '>', nowIso(k.now - CLAIM_TTL_MS))
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}

/** WeChat accepted: the claim becomes a payable open attempt. */
export async function openClaim(outTradeNo: string, placed: Placed): Promise<PaymentAttempt> {
  const db = await getDb();
  await db
    .updateTable('payment_attempts')
    .set({ status: 'open', ...placedColumns(placed) })
    .where('out_trade_no', '=', outTradeNo)
    .where('status', '=', 'failed')
    .execute();
  return db.selectFrom('payment_attempts').selectAll().where('out_trade_no', '=', outTradeNo).executeTakeFirstOrThrow();
}

/** WeChat refused: the claim goes, and the order too when this call made it and nothing else hangs on it. */
export async function dropClaim(outTradeNo: string, orderId: string, orderIsNew: boolean): Promise<void> {
  await writeTransaction(async (trx) => {
    await trx.deleteFrom('payment_attempts').where('out_trade_no', '=', outTradeNo).where('status', '=', 'failed').where('prepay_id', 'is', null).execute();
    if (!orderIsNew) return;
    await trx
      .deleteFrom('orders')
      .where('id', '=', orderId)
      .where('status', '=', 'pending')
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('payment_attempts').select('out_trade_no').where('order_id', '=', orderId))))
      .execute();
  });
}

/** Waits for another call's claim to be opened (its prepay) or dropped (undefined). */
export async function awaitClaim(outTradeNo: string, timeoutMs = CLAIM_TTL_MS): Promise<PaymentAttempt | undefined> {
  const db = await getDb();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const a = await db.selectFrom('payment_attempts').selectAll().where('out_trade_no', '=', outTradeNo).executeTakeFirst();
    if (!a) return undefined;
    if (a.status === 'open' && (a.prepay_id || a.code_url || a.mweb_url)) return a;
    if (a.status !== 'failed') return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}
