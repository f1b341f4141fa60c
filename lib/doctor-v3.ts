import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AppConfig } from './config';
import { WechatPayError } from './wechatpay/errors';
import { WechatPayV3Client } from './wechatpay/v3';

/**
 * The v3 lines of `npm run doctor` (parseConfig has already refused unreadable keys, a bad public key id
 * and an APIv3 key that is not 32 bytes). When apiclient_cert.pem lies beside WECHATPAY_PRIVATE_KEY, as
 * WeChat's download puts it, its serial must equal WECHATPAY_CERT_SERIAL and its key must be the private
 * key's other half: the two mistakes that otherwise only show as SIGN_ERROR on the first live call.
 */
export function v3DoctorLines(c: AppConfig): { ok: boolean; lines: string[] } {
  const v3 = c.v3;
  if (!v3) return { ok: true, lines: [] };
  const lines = ['', 'WeChat Pay API v3:'];
  let ok = true;
  const modes = [v3.publicKey && `public key ${v3.publicKey.id}`, v3.platformCerts && 'platform certificates (/v3/certificates)'].filter(Boolean);
  lines.push(`  verifying answers and notifies with: ${modes.join(' + ')}`);
  lines.push(`  merchant private key: ${v3.privateKeyPath ?? '(sandbox merchant, generated in the data dir)'}; certificate serial ${v3.certSerial}`);
  lines.push('  APIv3 key: 32 bytes, OK');
  if (v3.privateKeyPath) {
    const certFile = path.join(path.dirname(v3.privateKeyPath), 'apiclient_cert.pem');
    if (existsSync(certFile)) {
      try {
        const cert = new X509Certificate(readFileSync(certFile));
        const pub = createPublicKey(createPrivateKey(v3.privateKeyPem)).export({ type: 'spki', format: 'der' });
        if (cert.serialNumber.toUpperCase() !== v3.certSerial.toUpperCase()) {
          ok = false;
          lines.push(`  NOT OK: ${certFile} has serial ${cert.serialNumber}, WECHATPAY_CERT_SERIAL is ${v3.certSerial}`);
        } else if (!cert.publicKey.export({ type: 'spki', format: 'der' }).equals(pub)) {
          ok = false;
          lines.push(`  NOT OK: ${certFile} does not belong to WECHATPAY_PRIVATE_KEY (another key pair)`);
        } else {
          lines.push(`  ${certFile}: serial and key match`);
        }
      } catch (e) {
        ok = false;
        lines.push(`  NOT OK: ${certFile} is not a readable certificate (${(e as Error).message})`);
      }
    } else {
      lines.push(`  (no apiclient_cert.pem beside the key: the serial is not cross-checked)`);
    }
  }
  return { ok, lines };
}

/**
 * `npm run doctor -- --live`: one signed call to WeChat Pay (a query for an order that cannot exist).
 * ORDER_NOT_EXIST, with its answer's signature verified, proves the private key, serial, mchid and
 * WeChat Pay key all fit; SIGN_ERROR or a verification failure says which does not.
 */
export async function v3LiveCheck(c: AppConfig, fetchImpl?: typeof fetch): Promise<{ ok: boolean; line: string }> {
  if (!c.v3) return { ok: true, line: '' };
  const client = new WechatPayV3Client({
    appId: c.appId, mchid: c.mchId, serialNo: c.v3.certSerial, privateKey: c.v3.privateKeyPem, apiV3Key: c.v3.apiV3Key, baseUrl: c.mchBaseUrl,
    publicKey: c.v3.publicKey ? { id: c.v3.publicKey.id, pem: c.v3.publicKey.pem } : undefined, platformCertificates: c.v3.platformCerts, maxRetries: 0,
    ...(fetchImpl ? { fetch: fetchImpl as never } : {}),
  });
  try {
    await client.queryByOutTradeNo('DOCTOR0000000000000000');
    return { ok: true, line: '  live: signed query answered and verified' };
  } catch (e) {
    if (e instanceof WechatPayError && e.code === 'ORDER_NOT_EXIST') return { ok: true, line: '  live: signed test call accepted by WeChat Pay and its answer verified (ORDER_NOT_EXIST, as expected)' };
    const code = e instanceof WechatPayError ? e.code : 'ERROR';
    return { ok: false, line: `  live: NOT OK: ${code}: ${(e as Error).message}` };
  }
}
