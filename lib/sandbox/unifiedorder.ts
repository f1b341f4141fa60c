import { parseWxTime } from '../wechatpay/time';
import { sandboxDb } from './db';
import { nowIso } from '../db';
import { newCodeUrl, newPrepayId } from './ids';
import { findOrder, isPaid, PREPAY_TTL_MS, type SandboxOrder } from './orders';
import { type MchCtx, type MchReply, errReply, failReply, lackParams, okReply, paramError } from './reply';
import { userByOpenid } from './users';
import { h5PayOf, h5RefusalOf, issueMwebUrl, V2_NO_PRODUCT_MSG, V2_NOAUTH_DES } from './h5';

/** Fields that are not part of "the same order": a re-submission may change them freely. */
const VOLATILE = new Set(['nonce_str', 'sign']);

/** The order's identity for re-submission checks: every other field, sorted. */
function paramsJson(fields: Record<string, string>): string {
  const keys = Object.keys(fields).filter((k) => !VOLATILE.has(k) && fields[k] !== '').sort();
  return JSON.stringify(keys.map((k) => [k, fields[k]]));
}

const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;
const TIME = /^\d{14}$/;
/**
 * WeChat refuses a JSAPI/NATIVE order that expires less than 5 minutes after now (1 minute is for
 * micropay, a different API), with an unsigned return_code=FAIL and this return_msg, commas full-width
 * as WeChat writes them. The current doc page only "suggests" more than 1 minute; merchants report the
 * refusal (SDK code comments: `失败返回 return_code:FAIL, return_msg:time_expire时间过短，刷卡至少1分钟，其他5分钟`).
 */
const MIN_WINDOW_MS = 5 * 60 * 1000;
export const TIME_EXPIRE_TOO_SHORT = 'time_expire时间过短，刷卡至少1分钟，其他5分钟';

/** Validates like WeChat, in WeChat's order of concern; returns the refusal, or undefined when fine. */
async function validate(ctx: MchCtx, now: number): Promise<MchReply | undefined> {
  const f = ctx.fields;
  for (const k of ['body', 'out_trade_no', 'total_fee', 'spbill_create_ip', 'notify_url', 'trade_type']) {
    if (!f[k]) return lackParams(k);
  }
  if (!OUT_TRADE_NO.test(f.out_trade_no)) return paramError('out_trade_no参数格式错误：6-32位数字、大小写字母或_-|*');
  if (!/^[1-9]\d{0,9}$/.test(f.total_fee) || Number(f.total_fee) > 2_147_483_647) return paramError('total_fee参数格式错误：必须是正整数（单位分）');
  if (Buffer.byteLength(f.body, 'utf8') > 127) return paramError('body参数长度有误：最多127字节');
  if (f.attach && Buffer.byteLength(f.attach, 'utf8') > 127) return paramError('attach参数长度有误：最多127字节');
  if (f.fee_type && f.fee_type !== 'CNY') return paramError('fee_type参数错误：仅支持CNY');
  if (f.notify_url.length > 256) return paramError('notify_url参数长度有误');
  let url: URL | undefined;
  try {
    url = new URL(f.notify_url);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !/^https?:\/\//.test(f.notify_url)) {
    return paramError('notify_url参数格式错误：必须是以http://或https://开头的完整地址');
  }
  if (f.notify_url.includes('?')) return paramError('notify_url参数格式错误：不能携带参数');
  if (!/^[0-9a-fA-F.:]{3,45}$/.test(f.spbill_create_ip)) return paramError('spbill_create_ip参数格式错误');
  if (f.trade_type === 'APP') return errReply(ctx, 'NOAUTH', '商户无此接口权限（沙箱不支持APP支付）');
  if (f.trade_type !== 'JSAPI' && f.trade_type !== 'NATIVE' && f.trade_type !== 'MWEB') return paramError('trade_type参数错误');
  if (f.trade_type === 'MWEB') {
    // H5 payment: scene_info is required (场景信息, 必填 on the H5 unifiedorder page,
    // https://pay.weixin.qq.com/wiki/doc/api/H5.php?chapter=9_20), a JSON string with h5_info; a missing
    // one is answered like any missing parameter here (lackParams). Then the merchant's permission.
    if (!f.scene_info) return lackParams('scene_info');
    if (!mwebSceneOk(f.scene_info)) return paramError('scene_info参数格式错误：{"h5_info":{"type":"Wap","wap_url":"...","wap_name":"..."}}');
    // Without H5 permission live WeChat answers unsigned return_code=FAIL 商户号该产品权限未开通 (./h5.ts);
    // the documented signed NOAUTH stays reachable through the switch's `refusal`.
    if (!(await h5PayOf(ctx.merchant))) {
      return (await h5RefusalOf(ctx.merchant)) === 'NOAUTH' ? errReply(ctx, 'NOAUTH', V2_NOAUTH_DES) : failReply(V2_NO_PRODUCT_MSG);
    }
  }
  if (f.trade_type === 'JSAPI') {
    if (!f.openid) return lackParams('openid');
    if (!(await userByOpenid(ctx.merchant.appId, f.openid))) return errReply(ctx, 'PARAM_ERROR', 'appid和openid不匹配'); // signed, as merchants see it live
  }
  if (f.trade_type === 'NATIVE') {
    if (!f.product_id) return lackParams('product_id');
    if (f.product_id.length > 32) return paramError('product_id参数长度有误');
  }
  if (f.time_start) {
    const t = TIME.test(f.time_start) ? parseWxTime(f.time_start) : undefined;
    if (t === undefined) return paramError('time_start参数格式错误：yyyyMMddHHmmss（北京时间）');
  }
  if (f.time_expire) {
    const t = TIME.test(f.time_expire) ? parseWxTime(f.time_expire) : undefined;
    if (t === undefined) return paramError('time_expire参数格式错误：yyyyMMddHHmmss（北京时间）');
    if (t - now < MIN_WINDOW_MS) return failReply(TIME_EXPIRE_TOO_SHORT);
  }
  return undefined;
}

/** scene_info of an H5 order: JSON with h5_info.type (Wap: wap_url and wap_name too; iOS/Android: app fields). */
function mwebSceneOk(raw: string): boolean {
  if (raw.length > 256) return false;
  try {
    const h5 = (JSON.parse(raw) as { h5_info?: Record<string, unknown> } | null)?.h5_info;
    if (typeof h5 !== 'object' || h5 === null || typeof h5.type !== 'string') return false;
    return h5.type !== 'Wap' || (typeof h5.wap_url === 'string' && h5.wap_url !== '' && typeof h5.wap_name === 'string' && h5.wap_name !== '');
  } catch {
    return false;
  }
}

/** The success answer; an MWEB order gets a fresh mweb_url each time (each lives 5 minutes, ./h5.ts). */
async function answer(ctx: MchCtx, o: SandboxOrder): Promise<MchReply> {
  const mweb_url = o.trade_type === 'MWEB' ? await issueMwebUrl(await sandboxDb(), o, ctx.fields.spbill_create_ip) : undefined;
  return okReply(ctx, {
    device_info: o.device_info ?? undefined,
    trade_type: o.trade_type,
    prepay_id: o.prepay_id,
    code_url: o.code_url ?? undefined,
    mweb_url,
  });
}

/** POST /pay/unifiedorder. */
export async function unifiedOrder(ctx: MchCtx): Promise<MchReply> {
  const now = Date.now();
  const refusal = await validate(ctx, now);
  if (refusal) return refusal;
  const f = ctx.fields;
  const db = await sandboxDb();
  const params = paramsJson(f);
  const existing = await findOrder(db, ctx.merchant.mchId, { out_trade_no: f.out_trade_no });
  if (existing) {
    if (isPaid(existing)) return errReply(ctx, 'ORDERPAID', '该订单已支付');
    if (existing.state === 'CLOSED') return errReply(ctx, 'ORDERCLOSED', '该订单已关闭');
    // A failed trade is final: its out_trade_no cannot be ordered again, however identical the fields.
    if (existing.state === 'PAYERROR') return errReply(ctx, 'INVALID_REQUEST', '201 商户订单号重复');
    if (existing.params_json !== params) return errReply(ctx, 'INVALID_REQUEST', '201 商户订单号重复');
    // Identical re-submission of an unpaid order: WeChat accepts it. Whether the prepay_id is the same is
    // UNVERIFIED; we answer the same one while it lives and a fresh one (fresh code_url too) after 2 hours.
    if (existing.prepay_expires_at > nowIso(now)) return answer(ctx, existing);
    const prepay_id = newPrepayId(now);
    const code_url = existing.trade_type === 'NATIVE' ? newCodeUrl() : null;
    await db
      .updateTable('sandbox_orders')
      .set({ prepay_id, code_url, prepay_expires_at: nowIso(now + PREPAY_TTL_MS), updated_at: nowIso(now) })
      .where('mch_id', '=', existing.mch_id)
      .where('out_trade_no', '=', existing.out_trade_no)
      .execute();
    return answer(ctx, { ...existing, prepay_id, code_url });
  }
  const order: SandboxOrder = {
    out_trade_no: f.out_trade_no,
    mch_id: ctx.merchant.mchId,
    appid: f.appid,
    params_json: params,
    sign_type: ctx.signType,
    trade_type: f.trade_type,
    total_fee: Number(f.total_fee),
    body: f.body,
    attach: f.attach || null,
    device_info: f.device_info || null,
    notify_url: f.notify_url,
    openid: f.trade_type === 'JSAPI' ? f.openid : null,
    product_id: f.product_id || null,
    expires_at: f.time_expire ? nowIso(parseWxTime(f.time_expire)!) : null,
    prepay_id: newPrepayId(now),
    prepay_expires_at: nowIso(now + PREPAY_TTL_MS),
    code_url: f.trade_type === 'NATIVE' ? newCodeUrl() : null,
    state: 'NOTPAY',
    transaction_id: null,
    time_end: null,
    bank_type: null,
    is_subscribe: null,
    coupon_fee: null,
    coupon_type: null,
    coupon_id: null,
    refunded_fee: 0,
    paid_at: null,
    created_at: nowIso(now),
    updated_at: nowIso(now),
  };
  try {
    await db.insertInto('sandbox_orders').values(order).execute();
  } catch {
    // A concurrent identical request won the insert: answer as for a re-submission.
    const again = await findOrder(db, ctx.merchant.mchId, { out_trade_no: f.out_trade_no });
    if (again && again.params_json === params && again.state === 'NOTPAY') return answer(ctx, again);
    return errReply(ctx, 'INVALID_REQUEST', '201 商户订单号重复');
  }
  return answer(ctx, order);
}
