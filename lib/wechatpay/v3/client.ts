import { createHash, type KeyObject } from 'node:crypto';
import { WechatPayCommunicationError, WechatPayError, WechatPayTimeoutError } from '../errors';
import { callRetries, TransportTimeout, type CallOptions } from '../transport';
import { checkApiV3Key } from './aead';
import { PlatformCertificates, readCertificateEntries, type PlatformCertificate } from './certificates';
import { RETRYABLE_CODES, v3ErrorFrom } from './errors';
import { CombinedKeys, loadPublicKey, StaticKeys, type WechatPayKeys } from './keys';
import { loadPrivateKey, signRequest } from './sign';
import { sendV3, type V3FetchLike, type V3HttpResult } from './transport';
import type { WxV3BillLink, WxV3CertificateEntry, WxV3H5Order, WxV3JsapiOrder, WxV3NativeOrder, WxV3OrderBase, WxV3Refund, WxV3RefundRequest, WxV3Transaction } from './types';
import { checkOrder, checkOutRefundNo, checkOutTradeNo, checkRefundRequest } from './validate';
import { signatureHeaders, verifyWechatpaySignature } from './verify';

/** Options of WechatPayV3Client. */
export interface WechatPayV3ClientOptions {
  appId: string;
  mchid: string;
  /** The merchant API certificate's serial (hex). */
  serialNo: string;
  /** apiclient_key.pem, as PEM text or a loaded key. */
  privateKey: KeyObject | string;
  /** The 32-byte APIv3 key (certificates and notifies). */
  apiV3Key: string;
  /** `https://api.mch.weixin.qq.com` live; `${origin}/sandbox/mch` in the sandbox (paths start with /v3). */
  baseUrl: string;
  /** Public-key mode: WeChat Pay's public key and its PUB_KEY_ID_... */
  publicKey?: { id: string; pem: string | KeyObject };
  /** Platform-certificate mode: fetch /v3/certificates (both may be on during a switch). */
  platformCertificates?: boolean;
  fetch?: V3FetchLike;
  /** Per attempt. Default 5000. */
  timeoutMs?: number;
  /** Extra attempts after network errors, timeouts, HTTP 5xx and SYSTEM_ERROR. Default 2. */
  maxRetries?: number;
  retryDelayMs?: number;
  /** Clock in epoch ms (signing and the timestamp skew check). */
  now?: () => number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const USER_AGENT = 'wechat-h5-checkout (node)';

/**
 * WeChat Pay API v3 merchant client. Every request is signed (Authorization, RSA-SHA256 with the
 * merchant key); every answer, error or not, is read as JSON, and a 2xx (a 204 too) is believed only
 * after its Wechatpay-* signature verifies with a known WeChat Pay key. Network failures, timeouts,
 * HTTP 5xx and SYSTEM_ERROR are retried with the very same request (same Authorization, same bytes);
 * 4xx are not. https://pay.weixin.qq.com/wiki/doc/apiv3/wechatpay/wechatpay2_0.shtml
 */
export class WechatPayV3Client {
  readonly keys: WechatPayKeys;
  /** Set in platform-certificate mode. */
  readonly certificates?: PlatformCertificates;
  private readonly privateKey: KeyObject;
  private readonly o: WechatPayV3ClientOptions & Required<Pick<WechatPayV3ClientOptions, 'timeoutMs' | 'maxRetries' | 'retryDelayMs'>>;
  private readonly base: URL;

  constructor(opts: WechatPayV3ClientOptions) {
    const bad = (m: string) => new WechatPayError(m, { code: 'INVALID_ARGUMENT' });
    for (const k of ['appId', 'mchid', 'serialNo'] as const) if (!opts[k]) throw bad(`${k} is required`);
    if (!/^https?:\/\/[^\s]+$/.test(opts.baseUrl)) throw bad(`baseUrl must be an http(s) URL, got "${opts.baseUrl}"`);
    try {
      checkApiV3Key(opts.apiV3Key);
      this.privateKey = typeof opts.privateKey === 'string' ? loadPrivateKey(opts.privateKey) : opts.privateKey;
    } catch (e) {
      throw bad((e as Error).message);
    }
    if (!opts.publicKey && !opts.platformCertificates) throw bad('set publicKey (public-key mode), platformCertificates, or both');
    this.o = { timeoutMs: 5000, maxRetries: 2, retryDelayMs: 100, ...opts };
    this.base = new URL(opts.baseUrl.replace(/\/+$/, ''));
    const sources: WechatPayKeys[] = [];
    if (opts.publicKey) {
      const k = opts.publicKey.pem;
      sources.push(new StaticKeys([[opts.publicKey.id, typeof k === 'string' ? loadPublicKey(k) : k]]));
    }
    if (opts.platformCertificates) {
      this.certificates = new PlatformCertificates({ download: () => this.downloadCertificates(), now: () => this.now() });
      sources.push(this.certificates);
    }
    this.keys = sources.length === 1 ? sources[0] : new CombinedKeys(sources);
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** POST /v3/pay/transactions/jsapi: the prepay_id for getBrandWCPayRequest. */
  async jsapi(req: WxV3JsapiOrder): Promise<{ prepay_id: string }> {
    checkOrder(req, 'jsapi');
    const r = await this.json<{ prepay_id?: string }>('POST', '/v3/pay/transactions/jsapi', this.order(req));
    if (!r?.prepay_id) throw badResponse('jsapi: answer without prepay_id', r);
    return { prepay_id: r.prepay_id };
  }

  /** POST /v3/pay/transactions/native: the code_url to show as a QR. */
  async native(req: WxV3NativeOrder): Promise<{ code_url: string }> {
    checkOrder(req, 'native');
    const r = await this.json<{ code_url?: string }>('POST', '/v3/pay/transactions/native', this.order(req));
    if (!r?.code_url) throw badResponse('native: answer without code_url', r);
    return { code_url: r.code_url };
  }

  /** POST /v3/pay/transactions/h5: the h5_url a phone browser opens. */
  async h5(req: WxV3H5Order): Promise<{ h5_url: string }> {
    checkOrder(req, 'h5');
    const r = await this.json<{ h5_url?: string }>('POST', '/v3/pay/transactions/h5', this.order(req));
    if (!r?.h5_url) throw badResponse('h5: answer without h5_url', r);
    return { h5_url: r.h5_url };
  }

  /**
   * GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=...; 404 ORDER_NOT_EXIST is thrown.
   * `opts.maxRetries` overrides the client's for this call (0: sent once, see CallOptions).
   */
  async queryByOutTradeNo(outTradeNo: string, opts?: CallOptions): Promise<WxV3Transaction> {
    checkOutTradeNo(outTradeNo);
    const retries = callRetries(opts, this.o.maxRetries);
    const r = await this.json<WxV3Transaction>('GET', `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}?mchid=${encodeURIComponent(this.o.mchid)}`, undefined, retries);
    if (!r?.trade_state || r.out_trade_no !== outTradeNo) throw badResponse(`query: answer is not trade ${outTradeNo}`, r);
    return r;
  }

  /** POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close: 204 when closed. ORDERPAID etc. are thrown. */
  async close(outTradeNo: string): Promise<void> {
    checkOutTradeNo(outTradeNo);
    await this.json('POST', `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}/close`, { mchid: this.o.mchid });
  }

  /** POST /v3/refund/domestic/refunds (no client certificate on v3). Retry with the same out_refund_no. */
  async refund(req: WxV3RefundRequest): Promise<WxV3Refund> {
    checkRefundRequest(req);
    const r = await this.json<WxV3Refund>('POST', '/v3/refund/domestic/refunds', req);
    if (!r?.refund_id || r.out_refund_no !== req.out_refund_no) throw badResponse('refund: answer is not this refund', r);
    return r;
  }

  /** GET /v3/refund/domestic/refunds/{out_refund_no}; 404 RESOURCE_NOT_EXISTS is thrown. */
  async refundQuery(outRefundNo: string): Promise<WxV3Refund> {
    checkOutRefundNo(outRefundNo);
    const r = await this.json<WxV3Refund>('GET', `/v3/refund/domestic/refunds/${encodeURIComponent(outRefundNo)}`);
    if (!r?.status || r.out_refund_no !== outRefundNo) throw badResponse(`refund query: answer is not refund ${outRefundNo}`, r);
    return r;
  }

  /** GET /v3/bill/tradebill?bill_date=YYYY-MM-DD: where the bill is and its SHA1. */
  async tradeBill(billDate: string, billType: 'ALL' | 'SUCCESS' | 'REFUND' = 'ALL'): Promise<WxV3BillLink> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(billDate)) throw new WechatPayError(`bill_date must be YYYY-MM-DD, got "${billDate}"`, { code: 'INVALID_ARGUMENT' });
    const r = await this.json<WxV3BillLink>('GET', `/v3/bill/tradebill?bill_date=${billDate}&bill_type=${billType}`);
    if (!r?.download_url || !r.hash_value) throw badResponse('tradebill: answer without download_url/hash_value', r);
    return r;
  }

  /**
   * Downloads a bill from its download_url (signed request) and checks it against hash_value. WeChat
   * does not sign this one answer (the hash, from the signed tradebill answer, is what proves it), and
   * the URL must be on our WeChat Pay origin: the merchant's Authorization goes nowhere else.
   */
  async downloadBill(link: WxV3BillLink): Promise<Buffer> {
    const url = new URL(link.download_url);
    if (url.origin !== this.base.origin) throw new WechatPayError(`download_url ${url.origin} is not ${this.base.origin}`, { code: 'BAD_RESPONSE' });
    if (String(link.hash_type).toUpperCase() !== 'SHA1') throw new WechatPayError(`hash_type ${link.hash_type} is not SHA1`, { code: 'BAD_RESPONSE' });
    const res = await this.exchange('GET', url.href, undefined);
    if (res.status !== 200) throw v3ErrorFrom('billdownload', res.status, res.body.toString('utf8'));
    const sha1 = createHash('sha1').update(res.body).digest('hex');
    if (sha1 !== link.hash_value.toLowerCase()) throw new WechatPayError(`bill SHA1 ${sha1} is not ${link.hash_value}: not the bill WeChat described`, { code: 'BILL_HASH_MISMATCH' });
    return res.body;
  }

  /** GET /v3/certificates, decrypted and parsed (platform-certificate mode uses it; doctor too). */
  async downloadCertificates(): Promise<PlatformCertificate[]> {
    const res = await this.exchange('GET', '/v3/certificates', undefined);
    const text = res.body.toString('utf8');
    if (res.status !== 200) throw v3ErrorFrom('certificates', res.status, text);
    let data: WxV3CertificateEntry[];
    try {
      data = (JSON.parse(text) as { data: WxV3CertificateEntry[] }).data;
    } catch {
      throw badResponse('certificates: answer is not JSON', text.slice(0, 500));
    }
    const certs = readCertificateEntries(data, this.o.apiV3Key);
    // The answer is signed by one of the certificates it carries (or one we already hold).
    const held = this.certificates?.held() ?? [];
    const keys = new StaticKeys([...held, ...certs].map((c) => [c.serialNo, c.key] as [string, KeyObject]));
    await verifyWechatpaySignature(signatureHeaders(res.header), text, { keyFor: async (s) => keys.keyFor(s.toUpperCase()), serials: () => keys.serials() }, { now: this.now() });
    return certs;
  }

  private order(req: WxV3OrderBase): Record<string, unknown> {
    return { appid: this.o.appId, mchid: this.o.mchid, ...req, amount: { total: req.amount.total, currency: req.amount.currency ?? 'CNY' } };
  }

  /** One call: exchange (retried up to maxRetries), then errors typed, then the 2xx answer's signature verified, then JSON. */
  private async json<T>(method: 'GET' | 'POST', pathAndQuery: string, body?: unknown, maxRetries = this.o.maxRetries): Promise<T | null> {
    const res = await this.exchange(method, pathAndQuery, body === undefined ? undefined : JSON.stringify(body), maxRetries);
    const text = res.body.toString('utf8');
    const what = `${method} ${pathAndQuery.split('?')[0]}`;
    if (res.status < 200 || res.status >= 300) throw v3ErrorFrom(what, res.status, text);
    await verifyWechatpaySignature(signatureHeaders(res.header), text, this.keys, { now: this.now() });
    if (res.status === 204 || text === '') return null;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw badResponse(`${what}: answer is not JSON`, text.slice(0, 500));
    }
  }

  /**
   * Signs once, then sends; network failures, timeouts, 5xx and SYSTEM_ERROR answers are sent again
   * unchanged, up to maxRetries times. Any other answer (2xx, 4xx) is returned for the caller to read.
   */
  private async exchange(method: string, pathAndQuery: string, body: string | undefined, maxRetries = this.o.maxRetries): Promise<V3HttpResult> {
    // A path under baseUrl, or (bill downloads) an absolute URL on the same origin, checked by the caller.
    const url = /^https?:\/\//.test(pathAndQuery) ? pathAndQuery : this.base.origin + this.base.pathname.replace(/\/+$/, '') + pathAndQuery;
    const signedPath = new URL(url).pathname + new URL(url).search;
    const { authorization } = signRequest({ method, url: signedPath, body: body ?? '', mchid: this.o.mchid, serialNo: this.o.serialNo, privateKey: this.privateKey, now: this.now() });
    const headers: Record<string, string> = { accept: 'application/json', authorization, 'user-agent': USER_AGENT };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const f = this.o.fetch ?? (globalThis.fetch as unknown as V3FetchLike);
    let last: WechatPayError | undefined;
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      if (attempt > 0) await sleep(this.o.retryDelayMs * 2 ** (attempt - 1));
      const tries = `attempt ${attempt + 1} of ${maxRetries + 1}`;
      let res: V3HttpResult;
      try {
        res = await sendV3(f, url, method, headers, body, this.o.timeoutMs);
      } catch (e) {
        last = e instanceof TransportTimeout
          ? new WechatPayTimeoutError(`${method} ${pathAndQuery}: ${e.message} (${tries})`, { code: 'TIMEOUT', cause: e })
          : new WechatPayCommunicationError(`${method} ${pathAndQuery}: ${(e as Error).message} (${tries})`, { code: 'NETWORK', cause: e });
        continue;
      }
      if (res.status >= 500 || (res.status >= 400 && RETRYABLE_CODES.has(v3ErrorFrom('', res.status, res.body.toString('utf8')).code))) {
        last = v3ErrorFrom(`${method} ${pathAndQuery.split('?')[0]} (${tries})`, res.status, res.body.toString('utf8'));
        continue;
      }
      return res;
    }
    throw last!;
  }
}

function badResponse(message: string, raw: unknown): WechatPayCommunicationError {
  return new WechatPayCommunicationError(message, { code: 'BAD_RESPONSE', raw });
}
