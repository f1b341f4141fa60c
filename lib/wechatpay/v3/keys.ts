import { createPublicKey, type KeyObject } from 'node:crypto';

/**
 * Where the verifier finds WeChat Pay's public key for a `Wechatpay-Serial`: a PUB_KEY_ID_... in
 * public-key mode, a platform certificate serial in certificate mode, either during a switch.
 * Async because certificate mode may fetch /v3/certificates when it meets a serial it does not know.
 */
export interface WechatPayKeys {
  keyFor(serial: string): Promise<KeyObject | undefined>;
  /** The serials known right now (doctor, error messages). */
  serials(): string[];
}

/** Reads a PEM public key (pub_key.pem) or a PEM certificate's key; throws a TypeError naming the problem. */
export function loadPublicKey(pem: string | Buffer): KeyObject {
  try {
    const k = createPublicKey(pem);
    if (k.asymmetricKeyType !== 'rsa') throw new Error(`an ${k.asymmetricKeyType} key, not RSA`);
    return k;
  } catch (e) {
    throw new TypeError(`WeChat Pay public key is not a PEM RSA public key: ${(e as Error).message}`);
  }
}

/** The public key id WeChat issues: `PUB_KEY_ID_` then letters and digits. */
export const PUBLIC_KEY_ID = /^PUB_KEY_ID_[0-9A-Za-z]{1,64}$/;

/** A fixed serial -> key map: public-key mode (one entry), or a test's. */
export class StaticKeys implements WechatPayKeys {
  private readonly map = new Map<string, KeyObject>();
  constructor(entries: Iterable<[string, KeyObject | string]>) {
    for (const [serial, key] of entries) this.map.set(serial, typeof key === 'string' ? loadPublicKey(key) : key);
  }
  async keyFor(serial: string): Promise<KeyObject | undefined> {
    return this.map.get(serial);
  }
  serials(): string[] {
    return [...this.map.keys()];
  }
}

/**
 * Several sources at once (public key and platform certificates while a merchant switches): the first
 * that knows the serial answers. Static sources are asked first, so a known key never waits on a fetch.
 */
export class CombinedKeys implements WechatPayKeys {
  constructor(private readonly sources: WechatPayKeys[]) {}
  async keyFor(serial: string): Promise<KeyObject | undefined> {
    for (const s of this.sources) {
      const k = await s.keyFor(serial);
      if (k) return k;
    }
    return undefined;
  }
  serials(): string[] {
    return this.sources.flatMap((s) => s.serials());
  }
}
