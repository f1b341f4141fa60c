import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import type { Database } from '@/lib/db/schema';
import type { ScriptedWechat } from './scripted-wechat';

/**
 * lib/checkout in this test process, against a fresh temporary SQLite database and a scripted WeChat.
 * No global setup, no Next build, no PostgreSQL: for test/unit. Call `checkoutAgainst` before the first
 * dynamic import of a lib module (lib/config caches the configuration on first use).
 */

/** Singletons lib/ keeps on globalThis: cleared so a reused worker never hands us another file's database. */
const GLOBALS = ['wechat-checkout.db', 'wechat-checkout.pay-client', 'wechat-checkout.pay-client-v3', 'wechat-checkout.sandbox-db', 'wechat-checkout.reconciler'];

/** Live-mode variables: removed first so one suite's settings never leak into another's. */
const LIVE_ENV = ['WECHAT_APPID', 'WECHAT_APP_SECRET', 'WECHATPAY_MCH_ID', 'WECHATPAY_API_KEY', 'WECHATPAY_CERT_P12', 'WECHATPAY_SIGN_TYPE', 'MERCHANT_PASSWORD'];

export interface CheckoutUnderTest {
  db: Kysely<Database>;
  dir: string;
  close(): Promise<void>;
}

/**
 * Configures this process as the app (sandbox mode, WeChat Pay at `wx`, a fresh SQLite file), then opens
 * and migrates the database through lib/db. `env` overrides (e.g. live mode: pass `wx` null).
 */
export async function checkoutAgainst(wx: ScriptedWechat | null, env: Record<string, string> = {}): Promise<CheckoutUnderTest> {
  const g = globalThis as Record<symbol, unknown>;
  for (const k of GLOBALS) delete g[Symbol.for(k)];
  for (const k of [...LIVE_ENV, 'SANDBOX_MCH_BASE_URL']) delete process.env[k];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wx-unit-'));
  Object.assign(process.env, {
    WECHAT_MODE: 'sandbox',
    DATABASE_URL: `file:${path.join(dir, 'x.db')}`,
    PUBLIC_BASE_URL: wx ? wx.baseUrl : 'http://127.0.0.1:9',
    SESSION_SECRET: 's'.repeat(40),
    ...(wx ? { SANDBOX_MCH_BASE_URL: wx.baseUrl } : {}),
    ...env,
  });
  const { getDbHandle } = await import('@/lib/db');
  const handle = await getDbHandle();
  return {
    db: handle.db,
    dir,
    close: async () => {
      await handle.close();
      for (const k of GLOBALS) delete g[Symbol.for(k)];
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('');

export interface PaidOrder {
  orderId: string;
  outTradeNo: string;
  transactionId: string;
  amountFen: number;
}

/** An order already paid through one attempt (status paid, transaction_id on both rows), written by SQL. */
export async function seedPaidOrder(db: Kysely<Database>, opts: { amountFen?: number; agoMs?: number } = {}): Promise<PaidOrder> {
  const amountFen = opts.amountFen ?? 100;
  const at = iso(Date.now() - (opts.agoMs ?? 0));
  const orderId = `o_${randomBytes(12).toString('base64url')}`;
  const outTradeNo = `P${digits(14)}${randomBytes(6).toString('hex').toUpperCase()}`;
  const transactionId = `4200${digits(24)}`;
  await db.insertInto('orders').values({
    id: orderId, sku: 'test-1fen', name: '测试商品', quantity: 1, amount_fen: amountFen, status: 'paid', buyer_openid: 'oBuyer',
    buyer_id: 'b_unit', transaction_id: transactionId, created_at: at, paid_at: at, updated_at: at, last_query_at: null,
  }).execute();
  await db.insertInto('payment_attempts').values({
    out_trade_no: outTradeNo, order_id: orderId, trade_type: 'NATIVE', amount_fen: amountFen, openid: 'oBuyer', sign_type: 'MD5',
    prepay_id: null, code_url: 'weixin://wxpay/bizpayurl?pr=unit', expires_at: iso(Date.now() + 15 * 60_000), status: 'paid',
    transaction_id: transactionId, created_at: at, updated_at: at,
  }).execute();
  return { orderId, outTradeNo, transactionId, amountFen };
}

/** A `processing` refund of a paid attempt, as reserveRefund leaves it (no event written), by SQL. */
export async function seedProcessingRefund(
  db: Kysely<Database>,
  paid: PaidOrder,
  opts: { amountFen?: number; agoMs?: number; origin?: 'merchant' | 'duplicate'; detail?: string | null } = {},
): Promise<string> {
  const at = iso(Date.now() - (opts.agoMs ?? 0));
  const outRefundNo = `R${digits(14)}${randomBytes(6).toString('hex').toUpperCase()}`;
  await db.insertInto('refunds').values({
    out_refund_no: outRefundNo, order_id: paid.orderId, out_trade_no: paid.outTradeNo, amount_fen: opts.amountFen ?? paid.amountFen,
    reason: 'unit test', origin: opts.origin ?? 'merchant', status: 'processing', refund_id: null, detail: opts.detail ?? null,
    created_at: at, updated_at: at,
  }).execute();
  return outRefundNo;
}

export const refundRow = (db: Kysely<Database>, outRefundNo: string) =>
  db.selectFrom('refunds').selectAll().where('out_refund_no', '=', outRefundNo).executeTakeFirstOrThrow();
export const orderRow = (db: Kysely<Database>, orderId: string) => db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
export const attemptRow = (db: Kysely<Database>, outTradeNo: string) =>
  db.selectFrom('payment_attempts').selectAll().where('out_trade_no', '=', outTradeNo).executeTakeFirstOrThrow();

/** One order's timeline in insertion order (SQLite rowid: several events may share a millisecond). */
export async function eventsOf(db: Kysely<Database>, orderId: string) {
  return db.selectFrom('payment_events').select(['source', 'outcome', 'detail', 'out_trade_no']).where('order_id', '=', orderId).orderBy(sql`rowid`).execute();
}

/** Polls `fn` until it returns something truthy (no fixed sleeps in the tests themselves). */
export async function until<T>(fn: () => T | Promise<T>, what: string, ms = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
