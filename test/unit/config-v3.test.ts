import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '@/lib/config';
import { doctorReport } from '@/lib/doctor';
import { loadPrivateKey } from '@/lib/wechatpay/v3';
import { selfSignedCertificate } from '@/lib/sandbox/v3/cert';

const fixtures = path.resolve(__dirname, '../fixtures/wechatpay-v3');
const live = {
  WECHAT_MODE: 'live', PUBLIC_BASE_URL: 'https://pay.example.com', WECHAT_APPID: 'wx2421b1c4370ec43b',
  WECHAT_APP_SECRET: 'secret', WECHATPAY_MCH_ID: '1900000109', WECHATPAY_API_KEY: 'a'.repeat(32),
  MERCHANT_PASSWORD: 'correct horse battery', SESSION_SECRET: 's'.repeat(32), DATABASE_URL: 'postgres://u@h/db',
};
const v3 = {
  ...live, WECHATPAY_API_VERSION: 'v3', WECHATPAY_APIV3_KEY: '0123456789abcdef0123456789ABCDEF', WECHATPAY_CERT_SERIAL: '5157F09EFDC096DE15EBE81A47057A7232F3E5E3',
  WECHATPAY_PRIVATE_KEY: path.join(fixtures, 'merchant_private_key.pem'), WECHATPAY_PUBLIC_KEY: path.join(fixtures, 'wechatpay_public_key.pem'),
  WECHATPAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_0110000100SANDBOX00000000000001',
};
const errorsOf = (env: Record<string, string>) => {
  const r = parseConfig(env);
  return r.ok ? [] : r.errors;
};

describe('WECHATPAY_API_VERSION=v3 configuration', () => {
  it('defaults to v2 and refuses anything but v2 or v3', () => {
    const r = parseConfig(live);
    expect(r.ok && r.config.apiVersion).toBe('v2');
    expect(errorsOf({ ...live, WECHATPAY_API_VERSION: 'v4' })).toContain('WECHATPAY_API_VERSION: must be v2 or v3, got "v4"');
  });

  it('live v3 with a public key: every value read and checked', () => {
    const r = parseConfig(v3);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.config.v3).toMatchObject({ certSerial: v3.WECHATPAY_CERT_SERIAL, publicKey: { id: v3.WECHATPAY_PUBLIC_KEY_ID }, platformCerts: false });
    expect(r.config.v3!.privateKeyPem).toContain('PRIVATE KEY');
  });

  it('names each missing or malformed v3 variable in live mode', () => {
    const base = { ...live, WECHATPAY_API_VERSION: 'v3' };
    const missing = errorsOf(base);
    for (const k of ['WECHATPAY_APIV3_KEY: missing', 'WECHATPAY_PRIVATE_KEY: missing', 'WECHATPAY_CERT_SERIAL: missing', 'WECHATPAY_PUBLIC_KEY: missing']) {
      expect(missing.some((e) => e.startsWith(k))).toBe(true);
    }
    expect(errorsOf({ ...v3, WECHATPAY_APIV3_KEY: 'short' })).toContain('WECHATPAY_APIV3_KEY: must be exactly 32 bytes, got 5');
    expect(errorsOf({ ...v3, WECHATPAY_PUBLIC_KEY_ID: 'KEY123' })[0]).toMatch(/^WECHATPAY_PUBLIC_KEY_ID: must look like PUB_KEY_ID_/);
    expect(errorsOf({ ...v3, WECHATPAY_PRIVATE_KEY: path.join(fixtures, 'vectors.json') })[0]).toMatch(/^WECHATPAY_PRIVATE_KEY: ".*vectors.json" is not a PEM RSA private key/);
    expect(errorsOf({ ...v3, WECHATPAY_PUBLIC_KEY: '/nonexistent/pub_key.pem' })[0]).toMatch(/^WECHATPAY_PUBLIC_KEY: cannot read/);
    expect(errorsOf({ ...v3, WECHATPAY_CERT_SERIAL: 'not-hex' })[0]).toMatch(/^WECHATPAY_CERT_SERIAL: must be the certificate serial in hex/);
    // Platform certificates alone are enough: no public key needed.
    const { WECHATPAY_PUBLIC_KEY: _a, WECHATPAY_PUBLIC_KEY_ID: _b, ...certOnly } = v3;
    expect(errorsOf({ ...certOnly, WECHATPAY_PLATFORM_CERTS: '1' })).toEqual([]);
  });

  it('sandbox v3 needs nothing: keys are generated once into the data dir and read back the same', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wxv3cfg-'));
    const env = { WECHATPAY_API_VERSION: 'v3', DATABASE_URL: `file:${path.join(dir, 'c.db')}` };
    const a = parseConfig(env);
    if (!a.ok) throw new Error(a.errors.join('\n'));
    const stored = JSON.parse(readFileSync(path.join(dir, 'sandbox-wechatpay-v3.json'), 'utf8'));
    expect(a.config.v3).toMatchObject({ certSerial: stored.serial_no, apiV3Key: stored.apiv3_key, publicKey: { id: stored.wechatpay_public_key_id } });
    expect(stored.wechatpay_public_key_id).toMatch(/^PUB_KEY_ID_0110000100/);
  });

  it('doctor cross-checks apiclient_cert.pem beside the key: serial and key pair', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wxv3doc-'));
    const keyFile = path.join(dir, 'apiclient_key.pem');
    copyFileSync(path.join(fixtures, 'merchant_private_key.pem'), keyFile);
    const cert = (serialHex: string) => selfSignedCertificate({ privateKey: loadPrivateKey(readFileSync(keyFile)), serialHex, commonName: '1900000109', notBeforeMs: Date.now() - 1000, notAfterMs: Date.now() + 86_400_000 });
    writeFileSync(path.join(dir, 'apiclient_cert.pem'), cert(v3.WECHATPAY_CERT_SERIAL));
    const good = doctorReport({ ...v3, WECHATPAY_PRIVATE_KEY: keyFile });
    expect(good.ok).toBe(true);
    expect(good.lines.join('\n')).toContain('serial and key match');
    expect(good.lines.join('\n')).not.toContain('WECHATPAY_CERT_P12 is not set');
    writeFileSync(path.join(dir, 'apiclient_cert.pem'), cert('0A0B0C0D0E'));
    const bad = doctorReport({ ...v3, WECHATPAY_PRIVATE_KEY: keyFile });
    expect(bad.ok).toBe(false);
    expect(bad.lines.join('\n')).toContain('has serial 0A0B0C0D0E, WECHATPAY_CERT_SERIAL is 5157F09EFDC096DE15EBE81A47057A7232F3E5E3');
  });
});

describe('sandboxV3Keys', () => {
  it('instances starting at once on one data dir all end up with the same keys (the first file wins)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wxv3keys-'));
    const root = path.resolve(__dirname, '../..');
    const { execFile } = await import('node:child_process');
    const script = `import('./lib/config-v3.ts').then((m) => console.log((m.sandboxV3Keys ?? m.default.sandboxV3Keys)(${JSON.stringify(dir)}, '10000100').serial_no))`;
    const run = () => new Promise<string>((ok, fail) => execFile(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), '-e', script], { cwd: root, encoding: 'utf8' }, (e, out) => (e ? fail(e) : ok(out.trim()))));
    const serials = await Promise.all([run(), run(), run(), run()]);
    expect(new Set(serials).size).toBe(1);
    const { sandboxV3Keys } = await import('@/lib/config-v3');
    expect(sandboxV3Keys(dir, '10000100').serial_no).toBe(serials[0]);
    // Another merchant id gets its own keys.
    expect(sandboxV3Keys(mkdtempSync(path.join(os.tmpdir(), 'wxv3keys-')), '10000101').mchid).toBe('10000101');
  });
});
