import { createHash, randomBytes, randomInt } from 'node:crypto';
import { formatWxDate, formatWxTime } from '../wechatpay/time';

function digits(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(randomInt(10));
  return s;
}

function alnum(n: number): string {
  const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const b = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += a[b[i] % a.length];
  return s;
}

/** 28 digits like WeChat's `4200001234202611221234567890`: prefix, 4 digits, date (UTC+8), 10 digits. */
export function newTransactionId(now = Date.now()): string {
  return `420000${digits(4)}${formatWxDate(now)}${digits(10)}`;
}

/** 29 digits like WeChat's refund ids (`50300...`). */
export function newRefundId(now = Date.now()): string {
  return `503000${digits(4)}${formatWxDate(now)}${digits(11)}`;
}

/** Like `wx201410272009395522657a690389285100`: `wx`, time (UTC+8), 22 hex characters. */
export function newPrepayId(now = Date.now()): string {
  return `wx${formatWxTime(now)}${randomBytes(11).toString('hex')}`;
}

/** NATIVE mode 2 code_url: opaque `weixin://wxpay/bizpayurl?pr=` + 7 characters. */
export function newCodeUrl(): string {
  return `weixin://wxpay/bizpayurl?pr=${alnum(7)}`;
}

export function newCode(): string {
  return `0${alnum(31)}`;
}

export function newToken(prefix = ''): string {
  return `${prefix}${randomBytes(24).toString('base64url')}`;
}

export function newRowId(prefix: string): string {
  return `${prefix}_${randomBytes(10).toString('hex')}`;
}

/** A stable openid of `user` under `appid`: `o` + 27 characters, as WeChat's look (oUpF8uMuAJO_M2pxb1Q9zNjWeS6o). */
export function openidFor(userId: string, appid: string): string {
  return `o${createHash('sha256').update(`sandbox-openid:${appid}:${userId}`).digest('base64url').slice(0, 27)}`;
}
