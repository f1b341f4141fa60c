import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { WechatPayDecryptError } from '../errors';

/** An encrypted resource as notifies and /v3/certificates carry it. */
export interface WxEncryptedResource {
  algorithm: string;
  ciphertext: string;
  associated_data?: string;
  nonce: string;
  original_type?: string;
}

const TAG_BYTES = 16;

/** The APIv3 key must be exactly 32 bytes: it is the AES-256 key itself, as ASCII. */
export function checkApiV3Key(key: string): void {
  if (Buffer.byteLength(key, 'utf8') !== 32) throw new TypeError(`APIv3 key must be 32 bytes, got ${Buffer.byteLength(key, 'utf8')}`);
}

/**
 * Decrypts AEAD_AES_256_GCM: key = the APIv3 key's bytes, IV = nonce (12 ASCII bytes), AAD =
 * associated_data, ciphertext = base64 whose last 16 bytes are the tag. A wrong key, a changed byte
 * or a changed AAD fails the tag: WechatPayDecryptError, nothing returned.
 * https://pay.weixin.qq.com/wiki/doc/apiv3/wechatpay/wechatpay4_2.shtml
 */
export function decryptResource(r: WxEncryptedResource, apiV3Key: string): string {
  try {
    if (r.algorithm !== 'AEAD_AES_256_GCM') throw new Error(`algorithm ${r.algorithm} is not AEAD_AES_256_GCM`);
    checkApiV3Key(apiV3Key);
    if (typeof r.ciphertext !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(r.ciphertext)) throw new Error('ciphertext is not base64');
    const data = Buffer.from(r.ciphertext, 'base64');
    if (data.length <= TAG_BYTES) throw new Error('ciphertext shorter than its tag');
    const d = createDecipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(String(r.nonce), 'utf8'));
    d.setAuthTag(data.subarray(data.length - TAG_BYTES));
    d.setAAD(Buffer.from(r.associated_data ?? '', 'utf8'));
    return Buffer.concat([d.update(data.subarray(0, data.length - TAG_BYTES)), d.final()]).toString('utf8');
  } catch (e) {
    throw new WechatPayDecryptError(`resource does not decrypt with the APIv3 key: ${(e as Error).message}`, { code: 'DECRYPT_FAILED', cause: e });
  }
}

/** The inverse (the sandbox's notifies and certificates, and tests): a fresh 12-character nonce unless given. */
export function encryptResource(plaintext: string, apiV3Key: string, associatedData: string, originalType: string, nonce = randomBytes(6).toString('hex')): WxEncryptedResource {
  checkApiV3Key(apiV3Key);
  const c = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
  c.setAAD(Buffer.from(associatedData, 'utf8'));
  const out = Buffer.concat([c.update(plaintext, 'utf8'), c.final(), c.getAuthTag()]);
  return { algorithm: 'AEAD_AES_256_GCM', ciphertext: out.toString('base64'), associated_data: associatedData, nonce, original_type: originalType };
}
