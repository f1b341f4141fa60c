import { WechatPayError } from '../errors';
import { decryptResource } from './aead';
import type { WechatPayKeys } from './keys';
import type { WxV3NotifyBody } from './types';
import { verifyWechatpaySignature, type WechatpaySignatureHeaders } from './verify';

/** A v3 notify that verified and decrypted: the envelope and the decrypted resource (JSON text and parsed). */
export interface V3Notify {
  envelope: WxV3NotifyBody;
  plaintext: string;
  resource: Record<string, unknown>;
}

/** True when a notify body is v3 JSON rather than v2 XML (the routes serve both protocols). */
export function looksLikeV3Notify(raw: string): boolean {
  return raw.replace(/^\uFEFF/, '').trimStart().startsWith('{');
}

/**
 * Reads a v3 notify: the signature headers are verified over the raw body BEFORE anything else is
 * parsed, then the envelope (resource_type encrypt-resource), then the resource is decrypted with the
 * APIv3 key (AES-256-GCM; a bad tag throws) and parsed. Throws WechatPaySignatureError,
 * WechatPayDecryptError or WechatPayError NOTIFY_FIELDS. https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_1_5.shtml
 */
export async function parseV3Notify(headers: WechatpaySignatureHeaders, raw: string, opts: { keys: WechatPayKeys; apiV3Key: string; now?: number }): Promise<V3Notify> {
  await verifyWechatpaySignature(headers, raw, opts.keys, { now: opts.now });
  let envelope: WxV3NotifyBody;
  try {
    envelope = JSON.parse(raw) as WxV3NotifyBody;
  } catch {
    throw new WechatPayError('notify body is not JSON', { code: 'NOTIFY_FIELDS' });
  }
  if (!envelope || typeof envelope !== 'object' || typeof envelope.event_type !== 'string' || !envelope.resource || typeof envelope.resource !== 'object') {
    throw new WechatPayError('notify lacks event_type or resource', { code: 'NOTIFY_FIELDS' });
  }
  if (envelope.resource_type !== 'encrypt-resource') throw new WechatPayError(`resource_type "${envelope.resource_type}" is not encrypt-resource`, { code: 'NOTIFY_FIELDS' });
  const plaintext = decryptResource(envelope.resource, opts.apiV3Key);
  let resource: unknown;
  try {
    resource = JSON.parse(plaintext);
  } catch {
    throw new WechatPayError('decrypted resource is not JSON', { code: 'NOTIFY_FIELDS' });
  }
  if (!resource || typeof resource !== 'object') throw new WechatPayError('decrypted resource is not an object', { code: 'NOTIFY_FIELDS' });
  return { envelope, plaintext, resource: resource as Record<string, unknown> };
}

/** The acknowledgement body of a refused v3 notify: WeChat retries on any 4xx/5xx with it. */
export function v3NotifyFailBody(message: string): string {
  return JSON.stringify({ code: 'FAIL', message });
}
