import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { generateSandboxV3Keys, getConfig, sandboxV3Keys, type SandboxV3Keys } from '../../config';
import { encryptResource } from '../../wechatpay/v3/aead';
import { responseMessage } from '../../wechatpay/v3/verify';
import { rsaSign, v3Nonce } from '../../wechatpay/v3/sign';
import { sandboxDb } from '../db';
import { envMerchant, findMerchant, type SandboxMerchant } from '../merchants';
import { selfSignedCertificate } from './cert';

/** How the sandbox signs its v3 answers and notifies: WeChat Pay's public key (default) or a platform certificate. */
export type V3SignerMode = 'public_key' | 'platform_certificate';

/** One merchant's v3 identity with keys loaded: what verifies that merchant and what signs as WeChat Pay to it. */
export interface V3Identity {
  merchant: SandboxMerchant;
  raw: SandboxV3Keys;
  merchantPublicKey: KeyObject;
  /** A self-signed certificate of the merchant key with its serial, for SDKs that read the serial from apiclient_cert.pem. */
  merchantCertificatePem: string;
  wechatpayKey: KeyObject;
  platformKey: KeyObject;
  /** The platform certificate (PEM): self-signed, valid 5 years from the keys' creation, the same in every process. */
  platformCertificatePem: string;
  platformNotBefore: number;
  platformNotAfter: number;
}

const key = Symbol.for('wechat-checkout.sandbox-v3');
type State = { identities: Map<string, V3Identity>; mode?: V3SignerMode };
const state = (): State => ((globalThis as { [key]?: State })[key] ??= { identities: new Map() });

const FIVE_YEARS_MS = 5 * 365 * 86_400_000;

function load(merchant: SandboxMerchant, raw: SandboxV3Keys): V3Identity {
  const cacheKey = `${raw.mchid}:${raw.serial_no}`;
  const hit = state().identities.get(cacheKey);
  if (hit) return { ...hit, merchant };
  const platformKey = createPrivateKey(raw.platform_private_key_pem);
  const merchantKey = createPrivateKey(raw.merchant_private_key_pem);
  const notBefore = Date.parse(raw.created_at) - 60_000;
  const notAfter = notBefore + FIVE_YEARS_MS;
  const id: V3Identity = {
    merchant,
    raw,
    merchantPublicKey: createPublicKey(raw.merchant_public_key_pem),
    // PKCS#1 v1.5 signatures are deterministic: every process makes byte-identical certificates.
    merchantCertificatePem: selfSignedCertificate({ privateKey: merchantKey, serialHex: raw.serial_no, commonName: `${raw.mchid} (sandbox merchant)`, notBeforeMs: notBefore, notAfterMs: notAfter }),
    wechatpayKey: createPrivateKey(raw.wechatpay_private_key_pem),
    platformKey,
    platformCertificatePem: selfSignedCertificate({ privateKey: platformKey, serialHex: raw.platform_serial_no, commonName: 'Tenpay.com Root CA (sandbox)', notBeforeMs: notBefore, notAfterMs: notAfter }),
    platformNotBefore: notBefore,
    platformNotAfter: notAfter,
  };
  state().identities.set(cacheKey, id);
  return id;
}

/** The checkout's own merchant's v3 identity (generated once into the data dir by lib/config's sandboxV3Keys). */
export function envV3Identity(): V3Identity {
  const c = getConfig();
  return load(envMerchant(c), sandboxV3Keys(c.dataDir, c.mchId));
}

/**
 * A merchant's v3 identity: the checkout's own from the data dir; any other's from its row, generated
 * on first use and stored with a conditional update, so concurrent first calls all end with one set.
 */
export async function v3IdentityOf(merchant: SandboxMerchant): Promise<V3Identity> {
  if (merchant.source === 'env') return envV3Identity();
  const db = await sandboxDb();
  const row = await db.selectFrom('sandbox_merchants').select('v3_keys').where('mch_id', '=', merchant.mchId).executeTakeFirstOrThrow();
  if (row.v3_keys) return load(merchant, JSON.parse(row.v3_keys) as SandboxV3Keys);
  await db.updateTable('sandbox_merchants').set({ v3_keys: JSON.stringify(generateSandboxV3Keys(merchant.mchId)) }).where('mch_id', '=', merchant.mchId).where('v3_keys', 'is', null).execute();
  const stored = await db.selectFrom('sandbox_merchants').select('v3_keys').where('mch_id', '=', merchant.mchId).executeTakeFirstOrThrow();
  return load(merchant, JSON.parse(stored.v3_keys!) as SandboxV3Keys);
}

/** The v3 identity of the merchant `mchId` names (null or absent: the checkout's own), or undefined when there is no such merchant. */
export async function v3IdentityFor(mchId: string | null | undefined): Promise<V3Identity | undefined> {
  if (!mchId) return envV3Identity();
  const m = await findMerchant(mchId);
  return m ? v3IdentityOf(m) : undefined;
}

/** The current signer: SANDBOX_V3_SIGNER at start, switched by POST /sandbox/sim/keys. */
export function v3SignerMode(): V3SignerMode {
  const st = state();
  return (st.mode ??= process.env.SANDBOX_V3_SIGNER === 'platform_certificate' ? 'platform_certificate' : 'public_key');
}

/** Switches the signer for every later answer and notify (in this process). */
export function setV3SignerMode(mode: V3SignerMode): void {
  state().mode = mode;
}

/** The four Wechatpay-* headers for a body, signed as WeChat Pay signs answers and notifies to `id`'s merchant (timestamp\nnonce\nbody\n). */
export function wechatpayHeaders(body: string, id: V3Identity, mode: V3SignerMode = v3SignerMode()): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = v3Nonce();
  const platform = mode === 'platform_certificate';
  return {
    'wechatpay-timestamp': timestamp,
    'wechatpay-nonce': nonce,
    'wechatpay-serial': platform ? id.raw.platform_serial_no : id.raw.wechatpay_public_key_id,
    'wechatpay-signature': rsaSign(responseMessage(timestamp, nonce, body), platform ? id.platformKey : id.wechatpayKey),
    'request-id': `sandbox-${nonce.slice(0, 16)}`,
  };
}

/** GET /v3/certificates' body: the merchant's platform certificate encrypted with its APIv3 key (AAD "certificate"). */
export function certificatesBody(id: V3Identity): string {
  const enc = encryptResource(id.platformCertificatePem, id.raw.apiv3_key, 'certificate', 'certificate');
  const rfc = (ms: number) => `${new Date(ms + 8 * 3600_000).toISOString().slice(0, 19)}+08:00`;
  return JSON.stringify({
    data: [{
      serial_no: id.raw.platform_serial_no,
      effective_time: rfc(id.platformNotBefore),
      expire_time: rfc(id.platformNotAfter),
      encrypt_certificate: { algorithm: enc.algorithm, nonce: enc.nonce, associated_data: 'certificate', ciphertext: enc.ciphertext },
    }],
  });
}

/** What GET /sandbox/sim/keys hands any SDK for one merchant (design section 8 field names), plus its certificates and the signer. */
export function publicKeysDocument(id: V3Identity): Record<string, unknown> {
  return {
    mchid: id.raw.mchid,
    appid: id.merchant.appId,
    serial_no: id.raw.serial_no,
    private_key_pem: id.raw.merchant_private_key_pem,
    merchant_certificate_pem: id.merchantCertificatePem,
    apiv3_key: id.raw.apiv3_key,
    wechatpay_public_key_pem: id.raw.wechatpay_public_key_pem,
    wechatpay_public_key_id: id.raw.wechatpay_public_key_id,
    platform_certificate_serial_no: id.raw.platform_serial_no,
    platform_certificate_pem: id.platformCertificatePem,
    signer: v3SignerMode(),
    base_url: `${getConfig().publicBaseUrl}/sandbox/mch`,
  };
}
