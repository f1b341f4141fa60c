import { WechatPayError } from '../errors';
import type { WxV3OrderBase, WxV3RefundRequest } from './types';

const bad = (m: string) => new WechatPayError(m, { code: 'INVALID_ARGUMENT' });
const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;
const OUT_REFUND_NO = /^[0-9A-Za-z_\-|*@]{1,64}$/;
const FEN = (n: unknown) => Number.isInteger(n) && (n as number) > 0 && (n as number) <= 2_147_483_647;

/** out_trade_no: 6-32 of [0-9A-Za-z_-|*]; anything else is refused before a request is made. */
export function checkOutTradeNo(v: string): void {
  if (!OUT_TRADE_NO.test(v)) throw bad(`out_trade_no must be 6-32 of [0-9A-Za-z_-|*], got "${v}"`);
}

/** out_refund_no: 1-64 of [0-9A-Za-z_-|*@]. */
export function checkOutRefundNo(v: string): void {
  if (!OUT_REFUND_NO.test(v)) throw bad(`out_refund_no must be 1-64 of [0-9A-Za-z_-|*@], got "${v}"`);
}

/** The order request's fields WeChat would refuse with PARAM_ERROR, refused here first. */
export function checkOrder(req: WxV3OrderBase & { payer?: { openid?: string } }, kind: 'jsapi' | 'native' | 'h5'): void {
  checkOutTradeNo(req.out_trade_no);
  if (!req.description || Buffer.byteLength(req.description, 'utf8') > 127) throw bad('description must be 1-127 bytes');
  if (!FEN(req.amount?.total)) throw bad(`amount.total must be a positive integer of fen, got ${req.amount?.total}`);
  if (req.amount.currency !== undefined && req.amount.currency !== 'CNY') throw bad('amount.currency must be CNY');
  if (!/^https?:\/\/[^?#\s]+$/.test(req.notify_url)) throw bad(`notify_url must be an http(s) URL without a query, got "${req.notify_url}"`);
  if (req.time_expire !== undefined && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/.test(req.time_expire)) throw bad(`time_expire must be RFC 3339 with an offset, got "${req.time_expire}"`);
  if (kind === 'jsapi' && !req.payer?.openid) throw bad('payer.openid is required for JSAPI');
  if (kind === 'h5' && !req.scene_info?.h5_info) throw bad('scene_info.h5_info is required for H5');
}

/** The refund request's amounts and ids. */
export function checkRefundRequest(req: WxV3RefundRequest): void {
  if (!req.out_trade_no && !req.transaction_id) throw bad('out_trade_no or transaction_id is required');
  if (req.out_trade_no) checkOutTradeNo(req.out_trade_no);
  checkOutRefundNo(req.out_refund_no);
  if (!FEN(req.amount?.refund) || !FEN(req.amount?.total)) throw bad('amount.refund and amount.total must be positive integers of fen');
  if (req.amount.refund > req.amount.total) throw bad('amount.refund exceeds amount.total');
  if (req.amount.currency !== 'CNY') throw bad('amount.currency must be CNY');
}
