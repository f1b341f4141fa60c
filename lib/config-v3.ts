import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Which WeChat Pay API the checkout speaks (WECHATPAY_API_VERSION). */
export type ApiVersion = 'v2' | 'v3';

/** The v3 merchant credentials (docs/configuration.md), read and checked once at start-up. */
export interface V3Settings {
  /** WECHATPAY_APIV3_KEY: 32 bytes, the AES-256-GCM key of notifies and certificates. */
  apiV3Key: string;
  /** WECHATPAY_PRIVATE_KEY's contents (apiclient_key.pem); in sandbox mode the sandbox merchant's. */
  privateKeyPem: string;
  /** The file it came from (doctor prints it); undefined in sandbox mode. */
  privateKeyPath?: string;
  /** WECHATPAY_CERT_SERIAL: the merchant API certificate's serial (hex). */
  certSerial: string;
  /** Public-key mode: WECHATPAY_PUBLIC_KEY's contents and WECHATPAY_PUBLIC_KEY_ID. */
  publicKey?: { id: string; pem: string; path?: string };
  /** WECHATPAY_PLATFORM_CERTS=1: also fetch platform certificates from /v3/certificates. */
  platformCerts: boolean;
}

/**
 * The sandbox's v3 identity, generated once into the data dir (sandbox-wechatpay-v3.json, mode 0600):
 * the sandbox merchant's key pair, its APIv3 key, WeChat Pay's key pair with its public key id, and a
 * platform certificate key pair (the certificate itself is made by the sandbox). The app in sandbox
 * mode signs with the merchant key; the sandbox verifies with its public half and signs answers with
 * WeChat Pay's key. Never used in live mode.
 */
export interface SandboxV3Keys {
  mchid: string;
  serial_no: string;
  merchant_private_key_pem: string;
  merchant_public_key_pem: string;
  apiv3_key: string;
  wechatpay_private_key_pem: string;
  wechatpay_public_key_pem: string;
  wechatpay_public_key_id: string;
  platform_serial_no: string;
  platform_private_key_pem: string;
  created_at: string;
}

const FILE = 'sandbox-wechatpay-v3.json';
const cache = new Map<string, SandboxV3Keys>();

function pair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

/**
 * A fresh set of sandbox v3 keys for merchant `mchid`: its RSA key pair and certificate serial, its
 * APIv3 key, WeChat Pay's key pair with a PUB_KEY_ID_ naming the merchant (as WeChat's do), and a
 * platform certificate key pair. Three 2048-bit RSA generations: a fraction of a second.
 */
export function generateSandboxV3Keys(mchid: string): SandboxV3Keys {
  const m = pair();
  const w = pair();
  const p = pair();
  return {
    mchid,
    serial_no: randomBytes(20).toString('hex').toUpperCase(),
    merchant_private_key_pem: m.privatePem,
    merchant_public_key_pem: m.publicPem,
    apiv3_key: randomBytes(16).toString('hex'),
    wechatpay_private_key_pem: w.privatePem,
    wechatpay_public_key_pem: w.publicPem,
    wechatpay_public_key_id: `PUB_KEY_ID_01${mchid}${randomBytes(8).toString('hex').toUpperCase()}`,
    platform_serial_no: randomBytes(20).toString('hex').toUpperCase().replace(/^[89A-F]/, '4'),
    platform_private_key_pem: p.privatePem,
    created_at: new Date().toISOString(),
  };
}

/**
 * The sandbox's v3 keys for `dataDir` and merchant `mchid`: read when present, else generated into a
 * temporary file and hard-linked into place, which is atomic and fails when the file exists: when
 * several instances start at once the first link wins and everyone reads that one. Cached per process.
 */
export function sandboxV3Keys(dataDir: string, mchid: string): SandboxV3Keys {
  const file = path.join(dataDir, FILE);
  const hit = cache.get(file);
  if (hit) return hit;
  let keys: SandboxV3Keys | undefined;
  try {
    keys = JSON.parse(readFileSync(file, 'utf8')) as SandboxV3Keys;
    if (keys.mchid !== mchid) keys = undefined;
  } catch {
    keys = undefined;
  }
  if (!keys) {
    keys = generateSandboxV3Keys(mchid);
    mkdirSync(dataDir, { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, JSON.stringify(keys, null, 2), { mode: 0o600 });
    try {
      linkSync(tmp, file);
    } catch (e) {
      // Another instance won, or the file is another merchant's (mchid changed): replace only the latter.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const existing = JSON.parse(readFileSync(file, 'utf8')) as SandboxV3Keys;
      if (existing.mchid !== mchid) {
        unlinkSync(file);
        linkSync(tmp, file);
      }
    } finally {
      unlinkSync(tmp);
    }
    keys = JSON.parse(readFileSync(file, 'utf8')) as SandboxV3Keys;
  }
  cache.set(file, keys);
  return keys;
}

type Val = (k: string) => string | undefined;

function readPem(name: string, file: string, kind: 'private' | 'public', errors: string[]): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    errors.push(`${name}: cannot read "${file}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    return undefined;
  }
  try {
    const k = kind === 'private' ? createPrivateKey(text) : createPublicKey(text);
    if (k.asymmetricKeyType !== 'rsa') throw new Error(`an ${k.asymmetricKeyType} key`);
  } catch (e) {
    errors.push(`${name}: "${file}" is not a PEM RSA ${kind} key (${(e as Error).message})`);
    return undefined;
  }
  return text;
}

/**
 * Reads the v3 variables of design section 8. In sandbox mode every one comes from sandboxV3Keys
 * (WECHATPAY_PLATFORM_CERTS still applies); in live mode each missing or malformed one is named.
 */
export function parseV3Settings(val: Val, live: boolean, dataDir: string, mchId: string, errors: string[]): V3Settings | undefined {
  const platformRaw = val('WECHATPAY_PLATFORM_CERTS');
  if (platformRaw !== undefined && !['0', '1'].includes(platformRaw)) errors.push(`WECHATPAY_PLATFORM_CERTS: must be 1 or unset, got "${platformRaw}"`);
  const platformCerts = platformRaw === '1';
  if (!live) {
    if (errors.length > 0) return undefined;
    const k = sandboxV3Keys(dataDir, mchId);
    return { apiV3Key: k.apiv3_key, privateKeyPem: k.merchant_private_key_pem, certSerial: k.serial_no, publicKey: { id: k.wechatpay_public_key_id, pem: k.wechatpay_public_key_pem }, platformCerts };
  }
  const before = errors.length;
  const apiV3Key = val('WECHATPAY_APIV3_KEY');
  if (!apiV3Key) errors.push('WECHATPAY_APIV3_KEY: missing (required for API v3: the 32-character APIv3 key set in the merchant portal)');
  else if (Buffer.byteLength(apiV3Key, 'utf8') !== 32) errors.push(`WECHATPAY_APIV3_KEY: must be exactly 32 bytes, got ${Buffer.byteLength(apiV3Key, 'utf8')}`);
  const privateKeyPath = val('WECHATPAY_PRIVATE_KEY');
  const privateKeyPem = privateKeyPath ? readPem('WECHATPAY_PRIVATE_KEY', privateKeyPath, 'private', errors) : undefined;
  if (!privateKeyPath) errors.push('WECHATPAY_PRIVATE_KEY: missing (required for API v3: the path of apiclient_key.pem)');
  const certSerial = val('WECHATPAY_CERT_SERIAL');
  if (!certSerial) errors.push('WECHATPAY_CERT_SERIAL: missing (required for API v3: the merchant API certificate serial)');
  else if (!/^[0-9A-Fa-f]{8,40}$/.test(certSerial)) errors.push(`WECHATPAY_CERT_SERIAL: must be the certificate serial in hex, got "${certSerial}"`);
  const pubPath = val('WECHATPAY_PUBLIC_KEY');
  const pubId = val('WECHATPAY_PUBLIC_KEY_ID');
  let publicKey: V3Settings['publicKey'];
  if (pubPath || pubId) {
    if (!pubPath) errors.push('WECHATPAY_PUBLIC_KEY: missing (WECHATPAY_PUBLIC_KEY_ID is set: give the path of pub_key.pem too)');
    if (!pubId) errors.push('WECHATPAY_PUBLIC_KEY_ID: missing (WECHATPAY_PUBLIC_KEY is set: give its PUB_KEY_ID_... too)');
    else if (!/^PUB_KEY_ID_[0-9A-Za-z]{1,64}$/.test(pubId)) errors.push(`WECHATPAY_PUBLIC_KEY_ID: must look like PUB_KEY_ID_0112345678..., got "${pubId}"`);
    const pem = pubPath ? readPem('WECHATPAY_PUBLIC_KEY', pubPath, 'public', errors) : undefined;
    if (pem && pubId) publicKey = { id: pubId, pem, path: pubPath };
  } else if (!platformCerts) {
    errors.push('WECHATPAY_PUBLIC_KEY: missing (API v3 needs WECHATPAY_PUBLIC_KEY + WECHATPAY_PUBLIC_KEY_ID, or WECHATPAY_PLATFORM_CERTS=1)');
  }
  if (errors.length > before) return undefined;
  return { apiV3Key: apiV3Key!, privateKeyPem: privateKeyPem!, privateKeyPath, certSerial: certSerial!, publicKey, platformCerts };
}
