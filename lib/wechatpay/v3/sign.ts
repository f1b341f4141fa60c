import { createPrivateKey, createSign, randomBytes, type KeyObject } from 'node:crypto';

/** The scheme name of a v3 Authorization header (RSA-2048 keys, SHA-256). */
export const AUTH_SCHEME = 'WECHATPAY2-SHA256-RSA2048';

/**
 * The message a merchant signs for one request: five lines, each ending in `\n`:
 * `METHOD\nURL\ntimestamp\nnonce_str\nbody\n`. URL is the path plus query exactly as sent; body is ''
 * for GET. https://pay.weixin.qq.com/wiki/doc/apiv3/wechatpay/wechatpay4_0.shtml
 */
export function requestMessage(method: string, url: string, timestamp: string, nonce: string, body: string): string {
  return `${method}\n${url}\n${timestamp}\n${nonce}\n${body}\n`;
}

/** RSASSA-PKCS1-v1_5 with SHA-256 over `message` (UTF-8), base64: every v3 signature, both directions. */
export function rsaSign(message: string, privateKey: KeyObject | string): string {
  return createSign('RSA-SHA256').update(message, 'utf8').sign(privateKey, 'base64');
}

/** A 32-character upper-case hex nonce (what WeChat's SDKs send). */
export function v3Nonce(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/** Reads a PEM private key once (apiclient_key.pem); throws a TypeError naming the problem. */
export function loadPrivateKey(pem: string | Buffer): KeyObject {
  try {
    const k = createPrivateKey(pem);
    if (k.asymmetricKeyType !== 'rsa') throw new Error(`an ${k.asymmetricKeyType} key, not RSA`);
    return k;
  } catch (e) {
    throw new TypeError(`merchant private key is not a PEM RSA private key: ${(e as Error).message}`);
  }
}

/** The parts of one Authorization header. */
export interface AuthorizationParts {
  mchid: string;
  serialNo: string;
  timestamp: string;
  nonce: string;
  signature: string;
}

/**
 * The Authorization header value. The order of the five pairs does not matter to WeChat; this is the
 * order of WeChat's own SDKs (and of the project's test vector).
 */
export function authorizationHeader(p: AuthorizationParts): string {
  return `${AUTH_SCHEME} mchid="${p.mchid}",serial_no="${p.serialNo}",timestamp="${p.timestamp}",nonce_str="${p.nonce}",signature="${p.signature}"`;
}

/** Parses an Authorization header (the sandbox reads the merchant's); null when it is not one. */
export function parseAuthorization(header: string | null | undefined): AuthorizationParts | null {
  if (!header) return null;
  const m = /^WECHATPAY2-SHA256-RSA2048\s+(.*)$/.exec(header.trim());
  if (!m) return null;
  const pairs: Record<string, string> = {};
  for (const part of m[1].matchAll(/([a-z_]+)="([^"]*)"/g)) pairs[part[1]] = part[2];
  const { mchid, serial_no, timestamp, nonce_str, signature } = pairs;
  if (!mchid || !serial_no || !timestamp || !nonce_str || !signature) return null;
  return { mchid, serialNo: serial_no, timestamp, nonce: nonce_str, signature };
}

/** Everything one signed request needs; `now` and `nonce` are injectable for vectors and tests. */
export function signRequest(opts: {
  method: string;
  url: string;
  body: string;
  mchid: string;
  serialNo: string;
  privateKey: KeyObject | string;
  now?: number;
  nonce?: string;
}): { authorization: string; timestamp: string; nonce: string; signature: string } {
  const timestamp = String(Math.floor((opts.now ?? Date.now()) / 1000));
  const nonce = opts.nonce ?? v3Nonce();
  const signature = rsaSign(requestMessage(opts.method, opts.url, timestamp, nonce, opts.body), opts.privateKey);
  return { authorization: authorizationHeader({ mchid: opts.mchid, serialNo: opts.serialNo, timestamp, nonce, signature }), timestamp, nonce, signature };
}
