import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { getConfig, sandboxV3Keys, type SandboxV3Keys } from '../../config';
import { encryptResource } from '../../wechatpay/v3/aead';
import { responseMessage } from '../../wechatpay/v3/verify';
import { rsaSign, v3Nonce } from '../../wechatpay/v3/sign';
import { selfSignedCertificate } from './cert';

/** How the sandbox signs its v3 answers and notifies: WeChat Pay's public key (default) or a platform certificate. */
export type V3SignerMode = 'public_key' | 'platform_certificate';

/** The sandbox's v3 identity with keys loaded: what verifies merchants and what signs as WeChat Pay. */
export interface V3Identity {
  raw: SandboxV3Keys;
  merchantPublicKey: KeyObject;
  wechatpayKey: KeyObject;
  platformKey: KeyObject;
  /** The platform certificate (PEM): self-signed, valid 5 years from the keys' creation, the same in every process. */
  platformCertificatePem: string;
  platformNotBefore: number;
  platformNotAfter: number;
}

const key = Symbol.for('wechat-checkout.sandbox-v3');
type State = { identity?: V3Identity; mode?: V3SignerMode };
const state = () => ((globalThis as { [key]?: State })[key] ??= {});

/** The sandbox's v3 identity (generated once into the data dir by lib/config's sandboxV3Keys). */
export function v3Identity(): V3Identity {
  const st = state();
  if (st.identity) return st.identity;
  const c = getConfig();
  const raw = sandboxV3Keys(c.dataDir, c.mchId);
  const platformKey = createPrivateKey(raw.platform_private_key_pem);
  const notBefore = Date.parse(raw.created_at) - 60_000;
  const notAfter = notBefore + 5 * 365 * 86_400_000;
  st.identity = {
    raw,
    merchantPublicKey: createPublicKey(raw.merchant_public_key_pem),
    wechatpayKey: createPrivateKey(raw.wechatpay_private_key_pem),
    platformKey,
    // PKCS#1 v1.5 signatures are deterministic: every process makes byte-identical certificates.
    platformCertificatePem: selfSignedCertificate({ privateKey: platformKey, serialHex: raw.platform_serial_no, commonName: 'Tenpay.com Root CA (sandbox)', notBeforeMs: notBefore, notAfterMs: notAfter }),
    platformNotBefore: notBefore,
    platformNotAfter: notAfter,
  };
  return st.identity;
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

/** The four Wechatpay-* headers for a body, signed as WeChat Pay signs answers and notifies (timestamp\nnonce\nbody\n). */
export function wechatpayHeaders(body: string, mode: V3SignerMode = v3SignerMode()): Record<string, string> {
  const id = v3Identity();
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

/** GET /v3/certificates' body: the platform certificate encrypted with the APIv3 key (AAD "certificate"). */
export function certificatesBody(): string {
  const id = v3Identity();
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

/** What GET /sandbox/sim/keys hands any SDK (design section 8 field names), plus the signer and platform certificate. */
export function publicKeysDocument(): Record<string, unknown> {
  const id = v3Identity();
  return {
    mchid: id.raw.mchid,
    appid: getConfig().appId,
    serial_no: id.raw.serial_no,
    private_key_pem: id.raw.merchant_private_key_pem,
    apiv3_key: id.raw.apiv3_key,
    wechatpay_public_key_pem: id.raw.wechatpay_public_key_pem,
    wechatpay_public_key_id: id.raw.wechatpay_public_key_id,
    platform_certificate_serial_no: id.raw.platform_serial_no,
    platform_certificate_pem: id.platformCertificatePem,
    signer: v3SignerMode(),
    base_url: `${getConfig().publicBaseUrl}/sandbox/mch`,
  };
}
