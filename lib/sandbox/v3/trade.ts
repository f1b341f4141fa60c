import { nowIso } from '../../db';
import { parseRfc3339 } from '../../wechatpay/v3/time';
import { sandboxDb } from '../db';
import { newCodeUrl, newPrepayId } from '../ids';
import { findOrder, isPaid, PREPAY_TTL_MS, type SandboxOrder } from '../orders';
import { userByOpenid } from '../users';
import type { V3Identity } from './identity';
import { transactionJson } from './notify-body';
import { V3_NO_CONTENT, v3Error, v3Json, v3ParamError, type V3Reply } from './reply';
import { h5PayOf, issueMwebUrl, V3_NOAUTH_MESSAGE } from '../h5';

/** The v3 order kinds and their v2-named trade type in the shared order table. */
const KINDS = { jsapi: 'JSAPI', native: 'NATIVE', h5: 'MWEB' } as const;
export type V3OrderKind = keyof typeof KINDS;
const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;
const MIN_WINDOW_MS = 60 * 1000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The request's identity for re-submission checks: the JSON with keys sorted at every level. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** Validates an order body like WeChat: PARAM_ERROR names the first bad field as a JSON pointer. */
async function validate(id: V3Identity, b: Obj, kind: V3OrderKind, now: number): Promise<V3Reply | undefined> {
  const m = id.merchant;
  const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : undefined);
  for (const k of ['appid', 'mchid', 'description', 'out_trade_no', 'notify_url']) if (!str(k)) return v3ParamError(`/${k}`, '必填字段缺失或不是字符串');
  // The body's mchid must be the caller's (the Authorization's); WeChat answers another as not its merchant.
  if (str('mchid') !== m.mchId) return v3Error(400, 'MCH_NOT_EXISTS', '商户号不存在', { field: '/mchid', location: 'body', value: b.mchid });
  if (str('appid') !== m.appId) return v3Error(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配', { field: '/appid', location: 'body', value: b.appid });
  if (Buffer.byteLength(str('description')!, 'utf8') > 127) return v3ParamError('/description', '长度不能超过127字节');
  if (!OUT_TRADE_NO.test(str('out_trade_no')!)) return v3ParamError('/out_trade_no', '6-32位数字、大小写字母或_-|*', 'body', b.out_trade_no);
  if (b.attach !== undefined && (typeof b.attach !== 'string' || Buffer.byteLength(b.attach, 'utf8') > 128)) return v3ParamError('/attach', '最长128字节的字符串');
  if (!/^https?:\/\/[^?#\s]+$/.test(str('notify_url')!) || str('notify_url')!.length > 256) return v3ParamError('/notify_url', '必须是不带参数的http(s)完整地址', 'body', b.notify_url);
  const amount = b.amount;
  if (!isObj(amount)) return v3ParamError('/amount', '必填');
  if (!Number.isInteger(amount.total) || (amount.total as number) < 1 || (amount.total as number) > 2_147_483_647) return v3ParamError('/amount/total', '必须是正整数（单位分）', 'body', amount.total);
  if (amount.currency !== undefined && amount.currency !== 'CNY') return v3ParamError('/amount/currency', '仅支持CNY', 'body', amount.currency);
  if (b.time_expire !== undefined) {
    const t = typeof b.time_expire === 'string' ? parseRfc3339(b.time_expire) : undefined;
    if (t === undefined) return v3ParamError('/time_expire', '格式为rfc3339，如2026-11-24T20:00:00+08:00', 'body', b.time_expire);
    if (t - now < MIN_WINDOW_MS) return v3ParamError('/time_expire', '订单失效时间至少1分钟之后', 'body', b.time_expire);
  }
  const scene = b.scene_info;
  if (scene !== undefined && (!isObj(scene) || typeof scene.payer_client_ip !== 'string' || !/^[0-9a-fA-F.:]{3,45}$/.test(scene.payer_client_ip))) return v3ParamError('/scene_info/payer_client_ip', '必须是用户的IP地址');
  if (kind === 'jsapi') {
    const openid = isObj(b.payer) && typeof b.payer.openid === 'string' ? b.payer.openid : '';
    if (!openid) return v3ParamError('/payer/openid', 'JSAPI下单必填');
    if (!(await userByOpenid(m.appId, openid))) return v3Error(400, 'PARAM_ERROR', '用户在商户appid下的openid不合法', { field: '/payer/openid', location: 'body', value: openid });
  }
  if (kind === 'h5') {
    // The v3 H5 order page: scene_info, its payer_client_ip, h5_info and h5_info.type are all 必填.
    if (!isObj(scene)) return v3ParamError('/scene_info', 'H5下单必填');
    if (!isObj(scene.h5_info) || typeof scene.h5_info.type !== 'string' || !['Wap', 'iOS', 'Android'].includes(scene.h5_info.type)) return v3ParamError('/scene_info/h5_info/type', 'H5下单必填：Wap、iOS或Android');
    if (!(await h5PayOf(m))) return v3Error(403, 'NO_AUTH', V3_NOAUTH_MESSAGE);
  }
  return undefined;
}

async function placed(kind: V3OrderKind, o: SandboxOrder, b: Obj): Promise<V3Reply> {
  if (kind === 'jsapi') return v3Json(200, { prepay_id: o.prepay_id });
  if (kind === 'native') return v3Json(200, { code_url: o.code_url });
  // H5: a fresh h5_url on the sandbox's stand-in for WeChat's H5 cashier (../h5.ts), valid 5 minutes,
  // for the payer_client_ip it was ordered for (the cashier compares the buyer's address with it).
  const scene = b.scene_info as Obj;
  return v3Json(200, { h5_url: await issueMwebUrl(await sandboxDb(), o, scene.payer_client_ip as string) });
}

/** POST /v3/pay/transactions/{jsapi,native,h5}: the same order table as v2's unifiedorder (sign_type RSA marks v3). */
export async function placeV3Order(id: V3Identity, kind: V3OrderKind, b: Obj): Promise<V3Reply> {
  const now = Date.now();
  const refusal = await validate(id, b, kind, now);
  if (refusal) return refusal;
  const c = id.merchant;
  const db = await sandboxDb();
  const params = canonical(b);
  const otn = b.out_trade_no as string;
  const existing = await findOrder(db, c.mchId, { out_trade_no: otn });
  if (existing) {
    if (isPaid(existing)) return v3Error(400, 'ORDERPAID', '该订单已支付');
    if (existing.state === 'CLOSED') return v3Error(400, 'ORDER_CLOSED', '该订单已关闭');
    // A failed trade is final: its out_trade_no cannot be ordered again, however identical the body.
    if (existing.state === 'PAYERROR') return v3Error(400, 'INVALID_REQUEST', '201 商户订单号重复');
    if (existing.params_json !== params) return v3Error(400, 'INVALID_REQUEST', '201 商户订单号重复');
    if (existing.prepay_expires_at > nowIso(now)) return placed(kind, existing, b);
    const fresh = { prepay_id: newPrepayId(now), code_url: kind === 'native' ? newCodeUrl() : null, prepay_expires_at: nowIso(now + PREPAY_TTL_MS), updated_at: nowIso(now) };
    await db.updateTable('sandbox_orders').set(fresh).where('mch_id', '=', existing.mch_id).where('out_trade_no', '=', otn).execute();
    return placed(kind, { ...existing, ...fresh }, b);
  }
  const order: SandboxOrder = {
    out_trade_no: otn, mch_id: c.mchId, appid: b.appid as string, params_json: params, sign_type: 'RSA', trade_type: KINDS[kind],
    total_fee: (b.amount as Obj).total as number, body: b.description as string, attach: (b.attach as string) || null, device_info: null,
    notify_url: b.notify_url as string, openid: kind === 'jsapi' ? ((b.payer as Obj).openid as string) : null, product_id: null,
    expires_at: typeof b.time_expire === 'string' ? nowIso(parseRfc3339(b.time_expire)!) : null,
    prepay_id: newPrepayId(now), prepay_expires_at: nowIso(now + PREPAY_TTL_MS), code_url: kind === 'native' ? newCodeUrl() : null,
    state: 'NOTPAY', transaction_id: null, time_end: null, bank_type: null, is_subscribe: null, coupon_fee: null, coupon_type: null, coupon_id: null, refunded_fee: 0, paid_at: null,
    created_at: nowIso(now), updated_at: nowIso(now),
  };
  try {
    await db.insertInto('sandbox_orders').values(order).execute();
  } catch {
    const again = await findOrder(db, c.mchId, { out_trade_no: otn });
    if (again && again.params_json === params && again.state === 'NOTPAY') return placed(kind, again, b);
    return v3Error(400, 'INVALID_REQUEST', '201 商户订单号重复');
  }
  return placed(kind, order, b);
}

/** GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=...: any order of this merchant, whichever protocol placed it. */
export async function queryV3Order(id: V3Identity, outTradeNo: string, mchid: string | null): Promise<V3Reply> {
  if (!mchid) return v3ParamError('mchid', '必填', 'query');
  if (mchid !== id.merchant.mchId) return v3Error(400, 'MCH_NOT_EXISTS', '商户号不存在', { field: 'mchid', location: 'query', value: mchid });
  const o = await findOrder(await sandboxDb(), mchid, { out_trade_no: outTradeNo });
  if (!o) return v3Error(404, 'ORDER_NOT_EXIST', '订单不存在');
  return v3Json(200, transactionJson(o));
}

/** POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close {mchid}: 204, or ORDERPAID / ORDER_CLOSED / ORDER_NOT_EXIST. */
export async function closeV3Order(id: V3Identity, outTradeNo: string, b: Obj): Promise<V3Reply> {
  if (typeof b.mchid !== 'string' || !b.mchid) return v3ParamError('/mchid', '必填');
  if (b.mchid !== id.merchant.mchId) return v3Error(400, 'MCH_NOT_EXISTS', '商户号不存在', { field: '/mchid', location: 'body', value: b.mchid });
  const db = await sandboxDb();
  const o = await findOrder(db, b.mchid, { out_trade_no: outTradeNo });
  if (!o) return v3Error(404, 'ORDER_NOT_EXIST', '订单不存在');
  if (isPaid(o)) return v3Error(400, 'ORDERPAID', '订单已支付，不能发起关单');
  if (o.state === 'CLOSED') return v3Error(400, 'ORDER_CLOSED', '订单已关闭');
  const r = await db.updateTable('sandbox_orders').set({ state: 'CLOSED', updated_at: nowIso() })
    .where('mch_id', '=', o.mch_id).where('out_trade_no', '=', outTradeNo).where('state', 'in', ['NOTPAY', 'USERPAYING', 'PAYERROR']).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) {
    const now = await findOrder(db, o.mch_id, { out_trade_no: outTradeNo });
    return now && isPaid(now) ? v3Error(400, 'ORDERPAID', '订单已支付，不能发起关单') : v3Error(400, 'ORDER_CLOSED', '订单已关闭');
  }
  return V3_NO_CONTENT;
}
