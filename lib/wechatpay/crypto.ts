import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { WechatPayDecryptError } from './errors';

/** AES-256-ECB key of refund notifies: the 32 ASCII bytes of lower-case hex md5(API key), not the key itself. */
export function reqInfoKey(apiKey: string): Buffer {
  return Buffer.from(createHash('md5').update(apiKey, 'utf8').digest('hex'), 'ascii');
}

/**
 * Decrypts a refund notify's `req_info`: base64, AES-256-ECB, PKCS7, key = md5(API key) as hex text.
 * Returns the plaintext XML (root `<root>`). Throws WechatPayDecryptError on any failure.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
 */
export function decryptReqInfo(reqInfo: string, apiKey: string): string {
  try {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(reqInfo.replace(/\s+/g, ''))) throw new Error('not base64');
    const decipher = createDecipheriv('aes-256-ecb', reqInfoKey(apiKey), null);
    decipher.setAutoPadding(true);
    return Buffer.concat([decipher.update(Buffer.from(reqInfo, 'base64')), decipher.final()]).toString('utf8');
  } catch (e) {
    throw new WechatPayDecryptError('req_info does not decrypt with md5(API key)', { code: 'DECRYPT_FAILED', raw: reqInfo, cause: e });
  }
}

/** The inverse of decryptReqInfo: what WeChat (and our sandbox, and test fixtures) send. */
export function encryptReqInfo(plainXml: string, apiKey: string): string {
  const cipher = createCipheriv('aes-256-ecb', reqInfoKey(apiKey), null);
  return Buffer.concat([cipher.update(plainXml, 'utf8'), cipher.final()]).toString('base64');
}
