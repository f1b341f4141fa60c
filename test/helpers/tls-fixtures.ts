import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Certificates for a local mutual-TLS server, made by the real `openssl` binary in a temp dir. */
export interface TlsFixtures {
  dir: string;
  /** The test CA that signed the server and the merchant client certificate. */
  caCert: Buffer;
  serverKey: Buffer;
  /** For 127.0.0.1 and localhost. */
  serverCert: Buffer;
  /** The merchant certificate as WeChat issues it: apiclient_cert.p12, passphrase = mch_id. */
  clientP12: Buffer;
  /** A client certificate from a CA the server does not trust, same passphrase. */
  strangerP12: Buffer;
  cleanup(): void;
}

function ssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ca(dir: string, name: string): void {
  ssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

function leaf(dir: string, name: string, cn: string, caName: string, ext: string): void {
  writeFileSync(path.join(dir, `${name}.ext`), ext);
  ssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  ssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-set_serial', String(Date.now()), '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`]);
}

/** Makes a CA, a server certificate, and client p12s (trusted and stranger) with passphrase `mchId`. */
export function makeTlsFixtures(mchId: string): TlsFixtures {
  const dir = mkdtempSync(path.join(tmpdir(), 'wxpay-tls-'));
  ca(dir, 'ca');
  ca(dir, 'otherca');
  leaf(dir, 'server', 'localhost', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf(dir, 'client', mchId, 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf(dir, 'stranger', mchId, 'otherca', 'extendedKeyUsage=clientAuth\n');
  for (const name of ['client', 'stranger']) {
    ssl(dir, ['pkcs12', '-export', '-inkey', `${name}.key`, '-in', `${name}.crt`, '-name', 'Tenpay Certificate', '-out', `${name}.p12`, '-passout', `pass:${mchId}`]);
  }
  const read = (f: string) => readFileSync(path.join(dir, f));
  return {
    dir,
    caCert: read('ca.crt'),
    serverKey: read('server.key'),
    serverCert: read('server.crt'),
    clientP12: read('client.p12'),
    strangerP12: read('stranger.p12'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
