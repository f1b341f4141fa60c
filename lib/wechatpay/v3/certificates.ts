import { X509Certificate, type KeyObject } from 'node:crypto';
import { WechatPayError } from '../errors';
import { decryptResource } from './aead';
import type { WechatPayKeys } from './keys';
import { parseRfc3339 } from './time';
import type { WxV3CertificateEntry } from './types';

/** A platform certificate, decrypted and parsed. */
export interface PlatformCertificate {
  serialNo: string;
  pem: string;
  key: KeyObject;
  effectiveMs: number;
  expireMs: number;
}

/**
 * Decrypts and checks /v3/certificates' entries: each ciphertext opens with the APIv3 key (AAD
 * "certificate"), is an X.509 certificate whose serial is the entry's serial_no (hex, case-insensitive)
 * and whose validity matches effective/expire_time within a day. A bad entry throws: a certificate
 * list we cannot fully read is not trusted at all.
 */
export function readCertificateEntries(entries: WxV3CertificateEntry[], apiV3Key: string): PlatformCertificate[] {
  if (!Array.isArray(entries)) throw new WechatPayError('certificates: answer has no data array', { code: 'BAD_RESPONSE' });
  return entries.map((e) => {
    const pem = decryptResource({ algorithm: e.encrypt_certificate?.algorithm, ciphertext: e.encrypt_certificate?.ciphertext, associated_data: e.encrypt_certificate?.associated_data, nonce: e.encrypt_certificate?.nonce }, apiV3Key);
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch (err) {
      throw new WechatPayError(`certificates: entry ${e.serial_no} is not an X.509 certificate: ${(err as Error).message}`, { code: 'BAD_RESPONSE' });
    }
    if (cert.serialNumber.toUpperCase() !== String(e.serial_no).toUpperCase()) {
      throw new WechatPayError(`certificates: entry says serial ${e.serial_no}, the certificate is ${cert.serialNumber}`, { code: 'BAD_RESPONSE' });
    }
    const expireMs = parseRfc3339(e.expire_time) ?? Date.parse(cert.validTo);
    const effectiveMs = parseRfc3339(e.effective_time) ?? Date.parse(cert.validFrom);
    return { serialNo: cert.serialNumber.toUpperCase(), pem, key: cert.publicKey, effectiveMs, expireMs: Math.min(expireMs, Date.parse(cert.validTo)) };
  });
}

/** Options of PlatformCertificates. */
export interface PlatformCertificatesOptions {
  /** GETs /v3/certificates, signed, and returns its verified-after-decrypt entries (the client's job). */
  download: () => Promise<PlatformCertificate[]>;
  now?: () => number;
  /** Refetch after this long even when nothing expires (default 12 h, as WeChat's SDKs). */
  refreshMs?: number;
  /** Refetch when a certificate we hold expires within this (default 24 h): the new one is published before. */
  aheadMs?: number;
  /** An unknown serial triggers a refetch at most this often (default 60 s): junk serials cannot hammer WeChat. */
  unknownSerialMs?: number;
}

/**
 * Platform-certificate mode: the serial -> key map comes from /v3/certificates, fetched on first use,
 * refetched every refreshMs, before any held certificate expires, and when a response names a serial
 * we do not hold (WeChat rotates by publishing the new certificate first). Expired certificates are
 * never used. One fetch at a time (concurrent callers share it).
 */
export class PlatformCertificates implements WechatPayKeys {
  private certs = new Map<string, PlatformCertificate>();
  private fetchedAt = -Infinity;
  private lastUnknownFetch = -Infinity;
  private inflight?: Promise<void>;
  private readonly o: Required<Omit<PlatformCertificatesOptions, 'download'>> & Pick<PlatformCertificatesOptions, 'download'>;

  constructor(opts: PlatformCertificatesOptions) {
    this.o = { now: Date.now, refreshMs: 12 * 3600_000, aheadMs: 24 * 3600_000, unknownSerialMs: 60_000, ...opts };
  }

  /** Fetches now (start-up, doctor); concurrent calls share one download. */
  refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const list = await this.o.download();
        const next = new Map(this.certs);
        for (const c of list) next.set(c.serialNo, c);
        this.certs = next;
        this.fetchedAt = this.o.now();
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  private due(now: number): boolean {
    const since = now - this.fetchedAt;
    if (since >= this.o.refreshMs) return true;
    // Nothing valid, or everything about to expire: look for the successor, but at most once a minute
    // (WeChat may not have published it yet, and every call must not become a download).
    const live = [...this.certs.values()].filter((c) => c.expireMs > now);
    return since >= this.o.unknownSerialMs && (live.length === 0 || live.every((c) => c.expireMs - now <= this.o.aheadMs));
  }

  async keyFor(serial: string): Promise<KeyObject | undefined> {
    const now = this.o.now();
    const wanted = serial.toUpperCase();
    if (this.due(now)) {
      try {
        await this.refresh();
      } catch (e) {
        // Keep verifying with what we hold while it is valid; with nothing valid, the failure is the answer.
        if (![...this.certs.values()].some((c) => c.expireMs > now)) throw e;
      }
    } else if (!this.certs.has(wanted) && now - this.lastUnknownFetch >= this.o.unknownSerialMs) {
      this.lastUnknownFetch = now;
      await this.refresh().catch(() => undefined);
    }
    const c = this.certs.get(wanted);
    return c && c.expireMs > this.o.now() && c.effectiveMs <= this.o.now() + 300_000 ? c.key : undefined;
  }

  serials(): string[] {
    return [...this.certs.keys()];
  }

  /** The certificates held (doctor prints their serials and expiry). */
  held(): PlatformCertificate[] {
    return [...this.certs.values()];
  }
}
