import { createVerify, type KeyObject } from 'node:crypto';
import { rsaSign, v3Nonce } from './sign';
import type { WxV3JsapiParams } from './types';

/** The message paySign covers on v3: `appId\ntimeStamp\nnonceStr\npackage\n`. */
export function jsapiMessage(p: { appId: string; timeStamp: string; nonceStr: string; package: string }): string {
  return `${p.appId}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`;
}

/**
 * getBrandWCPayRequest parameters for a v3 prepay_id: signType "RSA" and paySign = RSA-SHA256 with the
 * merchant private key over jsapiMessage. https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_1_4.shtml
 */
export function jsapiParamsV3(opts: { appId: string; prepayId: string; privateKey: KeyObject | string; now?: number; nonce?: string }): WxV3JsapiParams {
  if (!opts.prepayId) throw new TypeError('jsapiParamsV3: prepayId is required');
  const base = {
    appId: opts.appId,
    timeStamp: String(Math.floor((opts.now ?? Date.now()) / 1000)),
    nonceStr: opts.nonce ?? v3Nonce(),
    package: `prepay_id=${opts.prepayId}`,
  };
  return { ...base, signType: 'RSA', paySign: rsaSign(jsapiMessage(base), opts.privateKey) };
}

/** What WeChat's client checks (the sandbox bridge uses it): signType RSA and paySign verifying with the merchant's public key. */
export function verifyJsapiParamsV3(params: Partial<WxV3JsapiParams> | Record<string, unknown>, merchantPublicKey: KeyObject | string): boolean {
  const { appId, timeStamp, nonceStr, package: pkg, signType, paySign } = params as Record<string, unknown>;
  if (signType !== 'RSA' || typeof paySign !== 'string') return false;
  for (const v of [appId, timeStamp, nonceStr, pkg]) if (typeof v !== 'string' || v === '') return false;
  try {
    return createVerify('RSA-SHA256')
      .update(jsapiMessage({ appId: appId as string, timeStamp: timeStamp as string, nonceStr: nonceStr as string, package: pkg as string }), 'utf8')
      .verify(merchantPublicKey, paySign, 'base64');
  } catch {
    return false;
  }
}
