import https from 'node:https';
import { createSecureContext } from 'node:tls';
import { parseBill } from './bill';
import {
  isTransientReturnMsg, WechatPayApiError, WechatPayCommunicationError, WechatPayError, WechatPayRequestError, WechatPaySignatureError,
  WechatPayTimeoutError, WechatPayXmlError,
} from './errors';
import { isSignType, nonceStr, sign, verify, type SignType } from './sign';
import { callRetries, postWithAgent, postWithFetch, TransportFailure, TransportTimeout, type CallOptions, type FetchLike, type HttpResult } from './transport';
import type {
  WxBill, WxCloseOrderRequest, WxCloseOrderResponse, WxDownloadBillRequest, WxOrderQueryRequest, WxOrderQueryResponse,
  WxRefundQueryRequest, WxRefundQueryResponse, WxRefundRequest, WxRefundResponse, WxRequestValue, WxUnifiedOrderRequest,
  WxUnifiedOrderResponse,
} from './types';
import { checkIds, checkOutTradeNo, checkRefund, checkUnifiedOrder } from './validate';
import { buildXml, parseXml } from './xml';

/** Options of WechatPayClient: merchant identity, where WeChat is, and the transport knobs tests inject. */
export interface WechatPayClientOptions {
  appId: string;
  mchId: string;
  /** The 32-byte v2 API key. */
  apiKey: string;
  /** Used to sign requests, and to verify responses that carry no sign_type. */
  signType: SignType;
  /** `https://api.mch.weixin.qq.com` live; `${origin}/sandbox/mch` in the sandbox. */
  baseUrl: string;
  /** Used for every call that needs no client certificate. Default: the global fetch. */
  fetch?: FetchLike;
  /** Per attempt. Default 5000. */
  timeoutMs?: number;
  /** Extra attempts after network errors, timeouts, HTTP 5xx and SYSTEMERROR. Default 2. */
  maxRetries?: number;
  /** First backoff; doubles per retry. Default 100. */
  retryDelayMs?: number;
  /** Clock (epoch ms) for checking time_expire. Default Date.now. */
  now?: () => number;
  /** apiclient_cert.p12 (WECHATPAY_CERT_P12): required by refunds over https. */
  pfx?: Buffer;
  /** The p12's passphrase. Default: mchId, as WeChat issues it. */
  passphrase?: string;
  /** Extra CA to trust for the refund host (tests; live uses the system roots). */
  ca?: Buffer | string;
  /** Told about every finished call (retries included), for metrics and logs; its exceptions are ignored. */
  onCall?: (call: WechatPayCallRecord) => void;
}

/**
 * One finished API call as onCall sees it. `result`: `success`; `fail` when WeChat answered with a
 * signed result_code FAIL (an err_code such as ORDERPAID); `error` when there was no trustworthy answer
 * (network, timeout, HTTP error, bad signature, malformed XML).
 */
export interface WechatPayCallRecord {
  api: Api;
  result: 'success' | 'fail' | 'error';
  /** The error's code (WeChat's err_code, or TIMEOUT, NETWORK, BAD_SIGN...) when not a success. */
  code?: string;
  durationMs: number;
}

/** The v2 APIs this client calls. */
export type Api = 'unifiedorder' | 'orderquery' | 'closeorder' | 'refund' | 'refundquery' | 'downloadbill';

/** Paths under baseUrl (docs/wechatpay-v2.md §3, §6, §7, §8). */
export const WECHATPAY_PATHS: Record<Api, string> = {
  unifiedorder: '/pay/unifiedorder',
  orderquery: '/pay/orderquery',
  closeorder: '/pay/closeorder',
  refund: '/secapi/pay/refund',
  refundquery: '/pay/refundquery',
  downloadbill: '/pay/downloadbill',
};

/** XML responses are small; this cap only guards against a runaway peer. */
const MAX_RESPONSE_XML = 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * WeChat Pay API v2 merchant client. Every request is signed (appid, mch_id, nonce_str, sign_type and sign
 * added here); every response is read return_code first, then its sign is verified, then result_code.
 * Network errors, timeouts, HTTP 5xx, SYSTEMERROR, a transient return_code=FAIL (系统错误稍后再试) and
 * BIZERR_NEED_RETRY for refunds are retried up
 * to maxRetries times with the very same body (same nonce_str and sign), as WeChat asks.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1 and the pages after it.
 */
export class WechatPayClient {
  private readonly opts: Required<Pick<WechatPayClientOptions, 'timeoutMs' | 'maxRetries' | 'retryDelayMs'>> & WechatPayClientOptions;
  private readonly baseUrl: string;
  private agent?: https.Agent;

  constructor(opts: WechatPayClientOptions) {
    if (!isSignType(opts.signType)) throw new WechatPayError(`signType must be MD5 or HMAC-SHA256, got "${opts.signType}"`, { code: 'INVALID_ARGUMENT' });
    if (!/^https?:\/\/[^\s]+$/.test(opts.baseUrl)) throw new WechatPayError(`baseUrl must be an http(s) URL, got "${opts.baseUrl}"`, { code: 'INVALID_ARGUMENT' });
    for (const k of ['appId', 'mchId', 'apiKey'] as const) {
      if (!opts[k]) throw new WechatPayError(`${k} is required`, { code: 'INVALID_ARGUMENT' });
    }
    this.opts = { timeoutMs: 5000, maxRetries: 2, retryDelayMs: 100, ...opts };
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
  }

  /** unifiedorder: places a JSAPI/NATIVE/MWEB prepayment. Response has prepay_id / code_url / mweb_url. */
  async unifiedOrder(req: WxUnifiedOrderRequest): Promise<WxUnifiedOrderResponse> {
    checkUnifiedOrder(req, (this.opts.now ?? Date.now)());
    const res = (await this.call('unifiedorder', req)) as WxUnifiedOrderResponse;
    if (req.trade_type === 'JSAPI' && !res.prepay_id) throw this.badResponse('unifiedorder', 'SUCCESS without prepay_id', res);
    if (req.trade_type === 'NATIVE' && !res.code_url) throw this.badResponse('unifiedorder', 'SUCCESS without code_url', res);
    if (req.trade_type === 'MWEB' && !res.mweb_url) throw this.badResponse('unifiedorder', 'SUCCESS without mweb_url', res);
    return res;
  }

  /**
   * orderquery by out_trade_no or transaction_id; trade_state tells SUCCESS/NOTPAY/CLOSED/REFUND/...
   * `opts.maxRetries` overrides the client's for this call (0: sent once, see CallOptions).
   */
  async orderQuery(req: WxOrderQueryRequest, opts?: CallOptions): Promise<WxOrderQueryResponse> {
    checkIds('orderquery', req, ['out_trade_no', 'transaction_id'], true);
    const retries = callRetries(opts, this.opts.maxRetries);
    return (await this.call('orderquery', { ...req }, false, retries)) as WxOrderQueryResponse;
  }

  /** closeorder: ORDERPAID (thrown as WechatPayApiError) means the buyer paid first. */
  async closeOrder(req: WxCloseOrderRequest): Promise<WxCloseOrderResponse> {
    checkOutTradeNo(req.out_trade_no);
    return (await this.call('closeorder', { out_trade_no: req.out_trade_no })) as WxCloseOrderResponse;
  }

  /**
   * refund over mutual TLS with the merchant p12 (plain http, i.e. the local sandbox, needs none).
   * Success means accepted; reuse out_refund_no when retrying the same refund.
   */
  async refund(req: WxRefundRequest): Promise<WxRefundResponse> {
    checkRefund(req);
    return (await this.call('refund', req)) as WxRefundResponse;
  }

  /** refundquery by refund_id, out_refund_no, transaction_id or out_trade_no; per-refund `*_$n` fields. */
  async refundQuery(req: WxRefundQueryRequest): Promise<WxRefundQueryResponse> {
    checkIds('refundquery', { ...req }, ['refund_id', 'out_refund_no', 'transaction_id', 'out_trade_no'], false);
    return (await this.call('refundquery', { ...req })) as WxRefundQueryResponse;
  }

  /** downloadbill (yyyyMMdd, UTC+8): the plain-text bill parsed into rows and a summary (amounts in yuan). */
  async downloadBill(req: WxDownloadBillRequest): Promise<WxBill> {
    if (!/^\d{8}$/.test(req.bill_date)) throw new WechatPayError(`bill_date must be yyyyMMdd, got "${req.bill_date}"`, { code: 'INVALID_ARGUMENT' });
    const res = await this.call('downloadbill', { bill_date: req.bill_date, bill_type: req.bill_type ?? 'ALL' }, true);
    return res as WxBill;
  }

  /** The signed body exactly as sent: retries resend these bytes. */
  private envelope(fields: Record<string, WxRequestValue>): string {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries({ appid: this.opts.appId, mch_id: this.opts.mchId, nonce_str: nonceStr(), sign_type: this.opts.signType, ...fields })) {
      if (v !== undefined && v !== '') out[k] = String(v);
    }
    out.sign = sign(out, this.opts.apiKey, this.opts.signType);
    return buildXml(out);
  }

  /** send() with its outcome and duration reported to onCall. */
  private async call(api: Api, fields: Record<string, WxRequestValue>, bill = false, maxRetries = this.opts.maxRetries): Promise<Record<string, string> | WxBill> {
    const started = performance.now();
    const report = (result: WechatPayCallRecord['result'], code?: string) => {
      try {
        this.opts.onCall?.({ api, result, code, durationMs: performance.now() - started });
      } catch {
        /* an observer must never change a payment call's outcome */
      }
    };
    try {
      const out = await this.send(api, fields, bill, maxRetries);
      report('success');
      return out;
    } catch (e) {
      report(e instanceof WechatPayApiError ? 'fail' : 'error', e instanceof WechatPayError ? e.code : 'ERROR');
      throw e;
    }
  }

  private async send(api: Api, fields: Record<string, WxRequestValue>, bill: boolean, maxRetries: number): Promise<Record<string, string> | WxBill> {
    const url = this.baseUrl + WECHATPAY_PATHS[api];
    const { post, mtls } = this.poster(api, url);
    const body = this.envelope(fields);
    const { retryDelayMs } = this.opts;
    let last: WechatPayError | undefined;
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      if (attempt > 0) await sleep(retryDelayMs * 2 ** (attempt - 1));
      const tries = `attempt ${attempt + 1} of ${maxRetries + 1}`;
      let res: HttpResult;
      try {
        res = await post(body);
      } catch (e) {
        if (e instanceof TransportTimeout) {
          last = new WechatPayTimeoutError(`${api}: ${e.message} (${tries})`, { code: 'TIMEOUT', cause: e });
          continue;
        }
        if (e instanceof TransportFailure && e.tls) {
          throw new WechatPayCommunicationError(`${api}: TLS with ${url} failed: ${e.message}`, { code: 'TLS_FAILED', cause: e });
        }
        // Under TLS 1.3 a server that rejects the client certificate only hangs up after the handshake.
        const hint = mtls ? '; if this persists, the server may be refusing the merchant certificate (WECHATPAY_CERT_P12)' : '';
        last = new WechatPayCommunicationError(`${api}: ${(e as Error).message} (${tries})${hint}`, { code: 'NETWORK', cause: e });
        continue;
      }
      if (res.status < 200 || res.status >= 300) {
        const err = new WechatPayCommunicationError(`${api}: HTTP ${res.status} from ${url}`, { code: 'HTTP_ERROR', statusCode: res.status, raw: res.body.slice(0, 2000) });
        if (res.status >= 500) {
          last = err;
          continue;
        }
        throw err;
      }
      if (bill && !res.body.replace(/^\uFEFF/, '').trimStart().startsWith('<')) return parseBill(res.body);
      let out: Record<string, string>;
      try {
        out = this.readResponse(api, res);
      } catch (e) {
        // A transient return_code=FAIL (系统错误稍后再试) is resent like SYSTEMERROR; a permanent one throws.
        if (e instanceof WechatPayCommunicationError && e.code === 'RETURN_FAIL') {
          last = e;
          continue;
        }
        throw e;
      }
      const retryable = out.err_code === 'SYSTEMERROR' || (api === 'refund' && out.err_code === 'BIZERR_NEED_RETRY');
      if (out.result_code !== 'SUCCESS') {
        const err = new WechatPayApiError(`${api}: ${out.err_code ?? 'FAIL'} ${out.err_code_des ?? ''}`.trim(), {
          code: out.err_code || 'RESULT_FAIL', statusCode: res.status, raw: out, errCodeDes: out.err_code_des,
        });
        if (retryable) {
          last = err;
          continue;
        }
        throw err;
      }
      return out;
    }
    throw last!;
  }

  /** return_code, then the signature (return_code=FAIL carries none), then the caller reads result_code. */
  private readResponse(api: Api, res: HttpResult): Record<string, string> {
    let out: Record<string, string>;
    try {
      out = parseXml(res.body, { maxBytes: MAX_RESPONSE_XML });
    } catch (e) {
      if (!(e instanceof WechatPayXmlError)) throw e;
      throw new WechatPayCommunicationError(`${api}: response is not v2 XML (${e.message})`, { code: 'BAD_RESPONSE', statusCode: res.status, raw: res.body.slice(0, 2000), cause: e });
    }
    if (out.return_code !== 'SUCCESS') {
      const message = `${api}: return_code ${out.return_code ?? '(missing)'}: ${out.return_msg ?? ''}`.trim();
      if (isTransientReturnMsg(out.return_msg)) throw new WechatPayCommunicationError(message, { code: 'RETURN_FAIL', statusCode: res.status, raw: out });
      throw new WechatPayRequestError(message, { statusCode: res.status, raw: out, returnMsg: out.return_msg ?? '' });
    }
    if (!verify(out, this.opts.apiKey, this.opts.signType)) {
      throw new WechatPaySignatureError(`${api}: response ${out.sign ? 'sign does not verify' : 'has no sign'}; not trusted`, { code: out.sign ? 'BAD_SIGN' : 'MISSING_SIGN', statusCode: res.status, raw: out });
    }
    return out;
  }

  private badResponse(api: Api, what: string, raw: unknown): WechatPayCommunicationError {
    return new WechatPayCommunicationError(`${api}: ${what}`, { code: 'BAD_RESPONSE', raw });
  }

  /** fetch for everything but refunds over https, which need node:https with the merchant certificate. */
  private poster(api: Api, url: string): { post: (body: string) => Promise<HttpResult>; mtls: boolean } {
    const { timeoutMs } = this.opts;
    if (api === 'refund' && url.startsWith('https:')) {
      const agent = this.refundAgent();
      return { post: (body) => postWithAgent(agent, url, body, timeoutMs), mtls: true };
    }
    const f = this.opts.fetch ?? (globalThis.fetch as unknown as FetchLike);
    return { post: (body) => postWithFetch(f, url, body, timeoutMs), mtls: false };
  }

  private refundAgent(): https.Agent {
    if (this.agent) return this.agent;
    const { pfx, mchId, ca } = this.opts;
    if (!pfx) {
      throw new WechatPayError('refund over https needs the merchant certificate: set WECHATPAY_CERT_P12 to the path of apiclient_cert.p12', { code: 'CERT_REQUIRED' });
    }
    const passphrase = this.opts.passphrase ?? mchId;
    try {
      createSecureContext({ pfx, passphrase }); // fail now, clearly, rather than at the first handshake
    } catch (e) {
      throw new WechatPayError(`WECHATPAY_CERT_P12 cannot be opened with ${this.opts.passphrase === undefined ? 'the mch_id as passphrase' : 'the given passphrase'}: ${(e as Error).message}`, { code: 'CERT_INVALID', cause: e });
    }
    this.agent = new https.Agent({ pfx, passphrase, ...(ca !== undefined ? { ca } : {}), keepAlive: false });
    return this.agent;
  }
}
