import { createVerify } from 'node:crypto';
import { WechatPaySignatureError } from '../errors';
import type { WechatPayKeys } from './keys';

/** The four signature headers of a v3 response or notify, by their values. */
export interface WechatpaySignatureHeaders {
  timestamp?: string | null;
  nonce?: string | null;
  signature?: string | null;
  serial?: string | null;
}

/** Reads the four `Wechatpay-*` headers from a header getter (a Headers object's `get`, or a plain record). */
export function signatureHeaders(get: (name: string) => string | null | undefined): WechatpaySignatureHeaders {
  return { timestamp: get('wechatpay-timestamp'), nonce: get('wechatpay-nonce'), signature: get('wechatpay-signature'), serial: get('wechatpay-serial') };
}

/** How far WeChat's timestamp may be from our clock: 5 minutes, as WeChat's SDKs allow. */
export const MAX_SKEW_S = 300;

/** The probe prefix: WeChat sends signatures starting with it on purpose, and they must fail. */
export const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/';

/** The message WeChat signs for a response or notify: `timestamp\nnonce\nbody\n`. */
export function responseMessage(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

/**
 * Verifies a response or notify signed by WeChat Pay, in this order: all four headers present, not a
 * SIGNTEST probe, the timestamp within MAX_SKEW_S of `now`, a key known for Wechatpay-Serial, the
 * RSA-SHA256 signature over `timestamp\nnonce\nbody\n`. Throws WechatPaySignatureError with a code
 * (MISSING_SIGNATURE, SIGNTEST_PROBE, STALE_TIMESTAMP, UNKNOWN_SERIAL, BAD_SIGNATURE); returns the serial
 * that verified. https://pay.weixin.qq.com/wiki/doc/apiv3/wechatpay/wechatpay4_1.shtml
 */
export async function verifyWechatpaySignature(h: WechatpaySignatureHeaders, body: string, keys: WechatPayKeys, opts: { now?: number; maxSkewS?: number } = {}): Promise<string> {
  const fail = (code: string, message: string) => new WechatPaySignatureError(message, { code, raw: { headers: h, body: body.slice(0, 2000) } });
  const { timestamp, nonce, signature, serial } = h;
  if (!timestamp || !nonce || !signature || !serial) {
    const missing = (['timestamp', 'nonce', 'signature', 'serial'] as const).filter((k) => !h[k]).map((k) => `Wechatpay-${k[0].toUpperCase()}${k.slice(1)}`);
    throw fail('MISSING_SIGNATURE', `not signed by WeChat Pay: ${missing.join(', ')} missing`);
  }
  if (signature.startsWith(SIGNTEST_PREFIX)) throw fail('SIGNTEST_PROBE', 'a WECHATPAY/SIGNTEST/ probe signature: refused, as WeChat expects');
  if (!/^\d{1,12}$/.test(timestamp)) throw fail('STALE_TIMESTAMP', `Wechatpay-Timestamp "${timestamp.slice(0, 20)}" is not Unix seconds`);
  const skew = Math.abs((opts.now ?? Date.now()) / 1000 - Number(timestamp));
  const max = opts.maxSkewS ?? MAX_SKEW_S;
  if (skew > max) throw fail('STALE_TIMESTAMP', `Wechatpay-Timestamp is ${Math.round(skew)} s from our clock (more than ${max} s): refused as a replay`);
  const key = await keys.keyFor(serial);
  if (!key) throw fail('UNKNOWN_SERIAL', `Wechatpay-Serial ${serial.slice(0, 80)} is none of our WeChat Pay keys (${keys.serials().join(', ') || 'none'})`);
  let ok = false;
  try {
    ok = createVerify('RSA-SHA256').update(responseMessage(timestamp, nonce, body), 'utf8').verify(key, signature, 'base64');
  } catch {
    ok = false;
  }
  if (!ok) throw fail('BAD_SIGNATURE', `Wechatpay-Signature does not verify with key ${serial}`);
  return serial;
}
