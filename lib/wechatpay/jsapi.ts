import { isSignType, nonceStr as randomNonce, safeEqual, sign, type SignType } from './sign';
import type { WxJsapiParams } from './types';

/**
 * getBrandWCPayRequest parameters for a prepay_id. paySign is the v2 signature over the other five, with
 * their exact camelCase names (appId, timeStamp, nonceStr, package, signType), and signType MUST be the
 * sign_type the unifiedorder used, or the bridge answers "fail_invalid signature".
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=7_7&index=6
 */
export function jsapiParams(opts: { appId: string; prepayId: string; apiKey: string; signType: SignType; now?: () => number; nonce?: string }): WxJsapiParams {
  if (!opts.prepayId) throw new TypeError('jsapiParams: prepayId is required');
  if (!isSignType(opts.signType)) throw new TypeError(`jsapiParams: signType must be MD5 or HMAC-SHA256, got "${opts.signType}"`);
  const base = {
    appId: opts.appId,
    timeStamp: String(Math.floor((opts.now ?? Date.now)() / 1000)),
    nonceStr: opts.nonce ?? randomNonce(),
    package: `prepay_id=${opts.prepayId}`,
    signType: opts.signType,
  };
  return { ...base, paySign: sign(base, opts.apiKey, opts.signType) };
}

/**
 * Checks a paySign the way WeChat's bridge does (the sandbox's bridge uses this): signed with the
 * params' own signType over appId, timeStamp, nonceStr, package and signType. Constant time.
 */
export function verifyJsapiParams(params: Partial<WxJsapiParams> | Record<string, unknown>, apiKey: string): boolean {
  const { appId, timeStamp, nonceStr, package: pkg, signType, paySign } = params as Record<string, unknown>;
  if (!isSignType(signType) || typeof paySign !== 'string') return false;
  const parts = { appId, timeStamp, nonceStr, package: pkg, signType };
  for (const v of Object.values(parts)) if (typeof v !== 'string' || v === '') return false;
  const expected = sign(parts as Record<string, string>, apiKey, signType);
  return safeEqual(expected, paySign.toUpperCase());
}
