import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { sandboxV3Keys, type SandboxV3Keys } from '../../lib/config';
import { encryptResource, formatRfc3339Cst, responseMessage, rsaSign, v3Nonce, WechatPayV3Client } from '../../lib/wechatpay/v3';

/** The two protocols a suite can run on (WECHATPAY_API_VERSION). */
export type ApiVersion = 'v2' | 'v3';
export const VERSIONS: ApiVersion[] = ['v2', 'v3'];

const root = path.resolve(__dirname, '../..');

/**
 * The sandbox's v3 secrets of an app (WeChat Pay's private key included, which /sandbox/sim/keys never
 * hands out): read from the app's data dir, where the sandbox generated them, so a test can sign a
 * notify exactly as the sandbox's WeChat would, then tamper with it.
 */
export function sandboxSecrets(app: { databaseUrl: string }): SandboxV3Keys {
  const dataDir = app.databaseUrl.startsWith('file:') ? path.dirname(path.resolve(app.databaseUrl.slice('file:'.length))) : path.join(root, 'data');
  return sandboxV3Keys(dataDir, '10000100');
}

/** A v3 client with the sandbox merchant's keys from GET /sandbox/sim/keys, pointed at the app's sandbox. */
export async function sandboxV3Client(baseUrl: string): Promise<WechatPayV3Client> {
  const k = await (await fetch(`${baseUrl}/sandbox/sim/keys`)).json();
  return new WechatPayV3Client({
    appId: k.appid, mchid: k.mchid, serialNo: k.serial_no, privateKey: k.private_key_pem, apiV3Key: k.apiv3_key, baseUrl: `${baseUrl}/sandbox/mch`,
    publicKey: { id: k.wechatpay_public_key_id, pem: k.wechatpay_public_key_pem }, maxRetries: 0,
  });
}

/** A key no one trusts: for "signed by someone else". */
export const STRANGER_KEY: KeyObject = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

/** How to build (or break) one v3 notify. */
export interface V3NotifyOpts {
  eventType?: string;
  /** transaction (payments) or refund. */
  kind?: 'transaction' | 'refund';
  /** Encrypt with another APIv3 key: the GCM tag fails. */
  apiV3Key?: string;
  /** Sign with another key (the serial still claims WeChat's). */
  signWith?: KeyObject;
  serial?: string;
  timestampMs?: number;
  /** Replace the signature (e.g. a WECHATPAY/SIGNTEST/ probe). */
  signature?: string;
}

/** A v3 notify as WeChat sends it: the envelope with the resource encrypted, and the four signature headers. */
export function v3Notify(keys: SandboxV3Keys, resource: Record<string, unknown>, o: V3NotifyOpts = {}): { body: string; headers: Record<string, string> } {
  const kind = o.kind ?? 'transaction';
  const enc = encryptResource(JSON.stringify(resource), o.apiV3Key ?? keys.apiv3_key, kind, kind);
  const body = JSON.stringify({
    id: `EV-${v3Nonce()}`, create_time: formatRfc3339Cst(Date.now()), resource_type: 'encrypt-resource',
    event_type: o.eventType ?? (kind === 'transaction' ? 'TRANSACTION.SUCCESS' : 'REFUND.SUCCESS'), summary: '通知',
    resource: { original_type: kind, algorithm: enc.algorithm, ciphertext: enc.ciphertext, associated_data: enc.associated_data, nonce: enc.nonce },
  });
  const timestamp = String(Math.floor((o.timestampMs ?? Date.now()) / 1000));
  const nonce = v3Nonce();
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'wechatpay-timestamp': timestamp,
      'wechatpay-nonce': nonce,
      'wechatpay-serial': o.serial ?? keys.wechatpay_public_key_id,
      'wechatpay-signature': o.signature ?? rsaSign(responseMessage(timestamp, nonce, body), o.signWith ?? createPrivateKey(keys.wechatpay_private_key_pem)),
    },
  };
}

/** A paid transaction resource for `outTradeNo` (sandbox merchant, 1 fen unless said), fields overridable. */
export function paidTransaction(outTradeNo: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mchid: '10000100', appid: 'wxd930ea5d5a258f4f', out_trade_no: outTradeNo, transaction_id: `42000000${Date.now()}${Math.floor(Math.random() * 1e6)}`,
    trade_type: 'NATIVE', trade_state: 'SUCCESS', trade_state_desc: '支付成功', bank_type: 'OTHERS', attach: '',
    success_time: formatRfc3339Cst(Date.now()), payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 1, payer_total: 1, currency: 'CNY', payer_currency: 'CNY' }, ...extra,
  };
}
