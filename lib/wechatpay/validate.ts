import { WechatPayError } from './errors';
import { parseWxTime } from './time';
import type { WxRefundRequest, WxRequestValue, WxUnifiedOrderRequest } from './types';

/*
 * Local checks of request fields against the documented limits (docs/wechatpay-v2.md §3 and §7), so a
 * bad request fails here with a clear message (WechatPayError INVALID_ARGUMENT) instead of as a vague
 * err_code after a round trip.
 */

function bad(message: string): never {
  throw new WechatPayError(message, { code: 'INVALID_ARGUMENT' });
}

const text = (v: WxRequestValue): string => (v === undefined ? '' : String(v));
const bytes = (v: string) => Buffer.byteLength(v, 'utf8');

function required(name: string, v: WxRequestValue): string {
  const s = text(v);
  if (s.trim() === '') bad(`${name} is required`);
  return s;
}

/** Integer fen, at least 1. */
export function checkFen(name: string, v: WxRequestValue): number {
  const s = required(name, v);
  if (!/^[1-9]\d{0,11}$/.test(s)) bad(`${name} must be a whole number of fen, at least 1 (got "${s}")`);
  return Number(s);
}

/** out_trade_no: 6-32 of [0-9A-Za-z_-|*]. */
export function checkOutTradeNo(v: WxRequestValue): void {
  const s = required('out_trade_no', v);
  if (!/^[0-9A-Za-z_\-|*]{6,32}$/.test(s)) bad(`out_trade_no must be 6-32 characters of [0-9A-Za-z_-|*] (got "${s}")`);
}

/**
 * WeChat refuses a unifiedorder (JSAPI, NATIVE, MWEB, APP) whose time_expire is less than 5 minutes
 * after its own clock (micropay: 1 minute), answering return_code=FAIL
 * `time_expire时间过短，刷卡至少1分钟，其他5分钟` (docs/wechatpay-v2.md s.3).
 */
export const MIN_EXPIRE_WINDOW_MS = 5 * 60_000;

/** unifiedorder fields, with time_expire checked against `now` (at least MIN_EXPIRE_WINDOW_MS away). */
export function checkUnifiedOrder(req: WxUnifiedOrderRequest, now: number): void {
  const body = required('body', req.body);
  if (bytes(body) > 127) bad(`body must be at most 127 UTF-8 bytes (got ${bytes(body)})`);
  if (req.attach !== undefined && bytes(req.attach) > 127) bad(`attach must be at most 127 UTF-8 bytes (got ${bytes(req.attach)})`);
  checkOutTradeNo(req.out_trade_no);
  checkFen('total_fee', req.total_fee);
  required('spbill_create_ip', req.spbill_create_ip);
  const notifyUrl = required('notify_url', req.notify_url);
  if (!/^https?:\/\/[^\s?#]+$/.test(notifyUrl) || notifyUrl.length > 256) {
    bad(`notify_url must be an absolute http(s) URL of at most 256 characters without a query string (got "${notifyUrl}")`);
  }
  if (!['JSAPI', 'NATIVE', 'MWEB', 'APP'].includes(req.trade_type)) bad(`trade_type must be JSAPI, NATIVE, MWEB or APP (got "${req.trade_type}")`);
  if (req.trade_type === 'JSAPI') required('openid (for trade_type JSAPI)', req.openid);
  if (req.trade_type === 'NATIVE') {
    const pid = required('product_id (for trade_type NATIVE)', req.product_id);
    if (pid.length > 32) bad('product_id must be at most 32 characters');
  }
  if (req.trade_type === 'MWEB') checkMwebSceneInfo(required('scene_info (for trade_type MWEB)', req.scene_info));
  if (req.time_start !== undefined && parseWxTime(req.time_start) === undefined) bad(`time_start must be yyyyMMddHHmmss in UTC+8 (got "${req.time_start}")`);
  if (req.time_expire !== undefined) {
    const expire = parseWxTime(req.time_expire);
    if (expire === undefined) bad(`time_expire must be yyyyMMddHHmmss in UTC+8 (got "${req.time_expire}")`);
    if (expire - now < MIN_EXPIRE_WINDOW_MS) {
      bad(`time_expire ${req.time_expire} (UTC+8) must be at least 5 minutes away: WeChat refuses a shorter window (time_expire时间过短，刷卡至少1分钟，其他5分钟)`);
    }
  }
}

/**
 * H5 payment's scene_info: a JSON string `{"h5_info": {"type": "Wap", "wap_url": ..., "wap_name": ...}}`
 * (the H5 unifiedorder page, https://pay.weixin.qq.com/wiki/doc/api/H5.php?chapter=9_20: 场景信息, 必填,
 * at most 256 characters). WeChat refuses the order without it; refused here before the call.
 */
export function checkMwebSceneInfo(raw: string): void {
  if (raw.length > 256) bad(`scene_info must be at most 256 characters (got ${raw.length})`);
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    bad('scene_info must be JSON such as {"h5_info":{"type":"Wap","wap_url":"https://...","wap_name":"..."}}');
  }
  const h5 = (v as { h5_info?: Record<string, unknown> } | null)?.h5_info;
  if (typeof h5 !== 'object' || h5 === null) bad('scene_info.h5_info is required for trade_type MWEB');
  if (h5.type !== 'Wap') bad(`scene_info.h5_info.type must be "Wap" for a mobile website (got ${JSON.stringify(h5.type)})`);
  if (typeof h5.wap_url !== 'string' || !/^https?:\/\//.test(h5.wap_url)) bad('scene_info.h5_info.wap_url must be the http(s) URL of the mobile website');
  if (typeof h5.wap_name !== 'string' || h5.wap_name === '') bad('scene_info.h5_info.wap_name must name the mobile website');
}

/** refund fields: one order id, out_refund_no <= 64, 1 <= refund_fee <= total_fee. */
export function checkRefund(req: WxRefundRequest): void {
  if (text(req.out_trade_no) === '' && text(req.transaction_id) === '') bad('refund needs out_trade_no or transaction_id');
  if (req.out_trade_no !== undefined) checkOutTradeNo(req.out_trade_no);
  const no = required('out_refund_no', req.out_refund_no);
  if (!/^[0-9A-Za-z_\-|*@]{1,64}$/.test(no)) bad(`out_refund_no must be 1-64 characters of [0-9A-Za-z_-|*@] (got "${no}")`);
  const total = checkFen('total_fee', req.total_fee);
  const refund = checkFen('refund_fee', req.refund_fee);
  if (refund > total) bad(`refund_fee ${refund} exceeds total_fee ${total}`);
}

/** One identifier among `names` is given (`exactly`: and only one). */
export function checkIds(api: string, req: Record<string, WxRequestValue>, names: string[], exactly: boolean): void {
  const given = names.filter((n) => text(req[n]) !== '').length;
  if (given === 0 || (exactly && given > 1)) bad(`${api} needs ${exactly ? 'exactly' : 'at least'} one of ${names.join(', ')} (got ${given})`);
}
