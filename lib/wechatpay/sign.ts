import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The two v2 sign types. `MD5` is WeChat's default when `sign_type` is absent. */
export type SignType = 'MD5' | 'HMAC-SHA256';

/** A flat v2 message: every value is text (see docs/wechatpay-v2.md §2). */
export type WxFields = Record<string, string | undefined>;

/** True for the two sign types v2 knows; anything else (e.g. `SHA1`) must be refused, not defaulted. */
export function isSignType(v: unknown): v is SignType {
  return v === 'MD5' || v === 'HMAC-SHA256';
}

/**
 * stringA of the v2 signature: every field except `sign` and empty values, sorted by name in ASCII
 * order, joined as `k=v&...` with raw (not URL-encoded) values. `sign_type` IS included.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
 */
export function signString(fields: WxFields): string {
  return Object.keys(fields)
    .filter((k) => k !== 'sign' && fields[k] !== undefined && fields[k] !== '')
    .sort() // default sort compares UTF-16 code units: ASCII order for ASCII names
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
}

/**
 * The v2 signature of `fields` with the merchant API key: upper-case hex of MD5(stringA&key=KEY) or of
 * HMAC-SHA256 keyed with KEY over the same string.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
 */
export function sign(fields: WxFields, apiKey: string, signType: SignType = 'MD5'): string {
  const temp = `${signString(fields)}&key=${apiKey}`;
  if (signType === 'HMAC-SHA256') {
    return createHmac('sha256', apiKey).update(temp, 'utf8').digest('hex').toUpperCase();
  }
  return createHash('md5').update(temp, 'utf8').digest('hex').toUpperCase();
}

/** Constant-time string equality; unequal lengths compare false without leaking where they differ. */
export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ba.length !== bb.length) {
    timingSafeEqual(ba, ba);
    return false;
  }
  return timingSafeEqual(ba, bb);
}

/**
 * Verifies `fields.sign` over every other received field (unknown extras included: WeChat adds fields).
 * The sign type is the payload's own `sign_type` when present, else `fallback` (the configured type:
 * WeChat's payment notify omits sign_type, which is why HMAC merchants must pass theirs here).
 * Returns false for a missing sign or an unknown sign_type.
 */
export function verify(fields: WxFields, apiKey: string, fallback: SignType = 'MD5'): boolean {
  const given = fields.sign;
  if (!given) return false;
  const declared = fields.sign_type;
  let type: SignType = fallback;
  if (declared !== undefined && declared !== '') {
    if (!isSignType(declared)) return false;
    type = declared;
  }
  return safeEqual(sign(fields, apiKey, type), given.toUpperCase());
}

/** 32 random characters of [A-Za-z0-9] for nonce_str (WeChat allows at most 32). */
export function nonceStr(length = 32): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i] % alphabet.length];
  return out;
}
