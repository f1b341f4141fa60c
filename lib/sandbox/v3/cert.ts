import { createPublicKey, sign, type KeyObject } from 'node:crypto';

/*
 * A minimal DER writer for one self-signed X.509 v3 certificate: the sandbox's platform certificate.
 * node:crypto parses certificates (X509Certificate) but cannot make one, and the sandbox needs exactly
 * one shape of it, so a few lines of ASN.1 beat a dependency. ITU-T X.690 (DER), RFC 5280 section 4.1.
 */

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), len(body.length), body]);
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A non-negative INTEGER from hex (a leading 00 keeps the high bit from meaning negative). */
function intHex(hex: string): Buffer {
  let b = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

function time(ms: number): Buffer {
  const iso = new Date(ms).toISOString();
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  const y = new Date(ms).getUTCFullYear();
  // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  return y < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii')) : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
const SHA256_RSA = seq(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));

/** A self-signed RSA-SHA256 certificate (PEM) for `privateKey`, with the given hex serial and validity. */
export function selfSignedCertificate(opts: { privateKey: KeyObject; serialHex: string; commonName: string; notBeforeMs: number; notAfterMs: number }): string {
  const spki = createPublicKey(opts.privateKey).export({ type: 'spki', format: 'der' });
  const tbs = seq(
    tlv(0xa0, intHex('02')), // [0] EXPLICIT version v3
    intHex(opts.serialHex),
    SHA256_RSA,
    name(opts.commonName),
    seq(time(opts.notBeforeMs), time(opts.notAfterMs)),
    name(opts.commonName),
    spki,
  );
  const signature = sign('sha256', tbs, opts.privateKey);
  const der = seq(tbs, SHA256_RSA, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}
