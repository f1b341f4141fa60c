import type { Kysely } from 'kysely';
import type { Database } from '../../lib/db/schema';
import { newOrderId, newOutTradeNo } from '../../lib/checkout/kernel';
import { SANDBOX_API_KEY, SANDBOX_APPID, SANDBOX_MCH_ID } from '../../lib/config';
import { WechatPayClient } from '../../lib/wechatpay/client';
import { formatWxTime } from '../../lib/wechatpay/time';
import { sandboxPay as simPay, waitFor } from './sandbox';
import { sandboxV3Client } from './v3';
import { formatRfc3339Cst } from '../../lib/wechatpay/v3';

/**
 * Orders and payment attempts for tests, written straight into an app's database (open it with
 * openDb(app.databaseUrl)). `placeSandboxAttempt` additionally places the trade at the app's sandbox
 * with the real WeChat Pay client (NATIVE unifiedorder, notify_url = the app's notify route), so the
 * sandbox can pay it and deliver the notify.
 */

export interface TestAttempt {
  orderId: string;
  outTradeNo: string;
  amountFen: number;
  codeUrl: string | null;
}

export interface OrderOpts {
  amountFen?: number;
  sku?: string;
  buyerId?: string;
  /** Backdates the order and attempt (e.g. past the reconciler's grace). */
  createdAgoMs?: number;
}

export interface AttemptOpts {
  amountFen?: number;
  tradeType?: 'JSAPI' | 'NATIVE';
  /** The app-side payment window (expires_at); default 15 minutes. */
  expiresInMs?: number;
  createdAgoMs?: number;
  codeUrl?: string | null;
  prepayId?: string | null;
  /** The protocol the attempt was placed with: v3 attempts carry sign_type RSA. Default v2. */
  protocol?: 'v2' | 'v3';
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A pending order (default: the 1-fen test product) with one open attempt of the same amount. */
export async function insertOrder(db: Kysely<Database>, opts: OrderOpts & AttemptOpts = {}): Promise<TestAttempt> {
  const amountFen = opts.amountFen ?? 1;
  const created = Date.now() - (opts.createdAgoMs ?? 0);
  const orderId = newOrderId();
  await db.insertInto('orders').values({
    id: orderId, sku: opts.sku ?? 'test-1fen', name: '测试商品 · 1 分钱', quantity: 1, amount_fen: amountFen, status: 'pending',
    buyer_openid: null, buyer_id: opts.buyerId ?? 'test-buyer', transaction_id: null, created_at: iso(created), paid_at: null,
    updated_at: iso(created), last_query_at: null,
  }).execute();
  return addAttempt(db, orderId, { ...opts, amountFen });
}

/** Another open attempt (fresh out_trade_no) on an existing order: e.g. the JSAPI prompt after the QR. */
export async function addAttempt(db: Kysely<Database>, orderId: string, opts: AttemptOpts = {}): Promise<TestAttempt> {
  const created = Date.now() - (opts.createdAgoMs ?? 0);
  const order = await db.selectFrom('orders').select('amount_fen').where('id', '=', orderId).executeTakeFirstOrThrow();
  const amountFen = opts.amountFen ?? order.amount_fen;
  const outTradeNo = newOutTradeNo();
  await db.insertInto('payment_attempts').values({
    out_trade_no: outTradeNo, order_id: orderId, trade_type: opts.tradeType ?? 'NATIVE', amount_fen: amountFen, openid: null,
    sign_type: opts.protocol === 'v3' ? 'RSA' : 'MD5', prepay_id: opts.prepayId ?? null, code_url: opts.codeUrl ?? null,
    expires_at: iso(Date.now() + (opts.expiresInMs ?? 15 * 60_000)), status: 'open', transaction_id: null,
    created_at: iso(created), updated_at: iso(created),
  }).execute();
  return { orderId, outTradeNo, amountFen, codeUrl: opts.codeUrl ?? null };
}

/** The real client pointed at an app's sandbox, with the sandbox merchant's identity. */
export function sandboxClient(baseUrl: string): WechatPayClient {
  return new WechatPayClient({ appId: SANDBOX_APPID, mchId: SANDBOX_MCH_ID, apiKey: SANDBOX_API_KEY, signType: 'MD5', baseUrl: `${baseUrl}/sandbox/mch`, maxRetries: 0 });
}

/**
 * Places a NATIVE trade at the app's sandbox (WeChat's side: 10-minute time_expire) and records the
 * matching attempt; `orderId` adds it to an existing order, else a new order is made. The app-side
 * window (`expiresInMs`) may be shorter than WeChat's, to make the reconciler close it soon.
 */
export async function placeSandboxAttempt(
  app: { baseUrl: string; port: number },
  db: Kysely<Database>,
  opts: OrderOpts & AttemptOpts & { orderId?: string } = {},
): Promise<TestAttempt> {
  const rec = opts.orderId ? await addAttempt(db, opts.orderId, opts) : await insertOrder(db, opts);
  if (opts.protocol === 'v3') {
    // API v3 Native order: the sandbox then notifies in v3 JSON, signed and encrypted.
    const v3 = await (await sandboxV3Client(app.baseUrl)).native({
      description: '测试商品', out_trade_no: rec.outTradeNo, amount: { total: rec.amountFen }, notify_url: `http://localhost:${app.port}/api/wechatpay/notify`,
      time_expire: formatRfc3339Cst(Date.now() + 10 * 60_000), scene_info: { payer_client_ip: '127.0.0.1' },
    });
    await db.updateTable('payment_attempts').set({ code_url: v3.code_url }).where('out_trade_no', '=', rec.outTradeNo).execute();
    return { ...rec, codeUrl: v3.code_url };
  }
  const res = await sandboxClient(app.baseUrl).unifiedOrder({
    body: '测试商品', out_trade_no: rec.outTradeNo, total_fee: rec.amountFen, spbill_create_ip: '127.0.0.1',
    notify_url: `http://localhost:${app.port}/api/wechatpay/notify`, trade_type: 'NATIVE', product_id: 'test-1fen',
    time_start: formatWxTime(Date.now()), time_expire: formatWxTime(Date.now() + 10 * 60_000),
  });
  await db.updateTable('payment_attempts').set({ code_url: res.code_url ?? null }).where('out_trade_no', '=', rec.outTradeNo).execute();
  return { ...rec, codeUrl: res.code_url ?? null };
}

/** The buyer paying a code_url in the sandbox (POST /sandbox/sim/pay); throws unless it answered 200. */
export async function sandboxPay(baseUrl: string, codeUrl: string, result: 'SUCCESS' | 'FAIL' | 'CANCEL' | 'USERPAYING' = 'SUCCESS'): Promise<unknown> {
  const r = await simPay(baseUrl, { code_url: codeUrl, result });
  if (r.status !== 200) throw new Error(`sim/pay answered ${r.status}: ${JSON.stringify(r.json)}`);
  return r.json;
}

export { waitFor };
