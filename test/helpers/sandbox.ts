import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nonceStr, sign, type SignType } from '@/lib/wechatpay/sign';
import { buildXml, parseXml } from '@/lib/wechatpay/xml';

/** The sandbox's merchant (docs/configuration.md defaults). */
export const SBX = { appid: 'wxd930ea5d5a258f4f', mchId: '10000100', apiKey: '192006250b4c09247ec02edce69f6a2d', secret: 'sandbox0app0secret0not0for0live00' };

export interface WxAnswer {
  status: number;
  text: string;
  contentType: string;
  /** Parsed XML fields ({} when the body is not XML, e.g. a bill or an HTTP 500 page). */
  fields: Record<string, string>;
}

/**
 * Posts a v2 request built by hand: appid, mch_id and nonce_str filled in unless given (pass '' to
 * omit one), signed with the merchant key for `signType` (sign_type included in the body unless MD5
 * and `omitSignType`). `badKey` signs with a wrong key.
 */
export async function wxPost(
  baseUrl: string,
  api: string,
  fields: Record<string, string | undefined>,
  opts: { signType?: SignType; sendSignType?: boolean; key?: string; rawBody?: string; method?: string } = {},
): Promise<WxAnswer> {
  const signType = opts.signType ?? 'MD5';
  const all: Record<string, string | undefined> = { appid: SBX.appid, mch_id: SBX.mchId, nonce_str: nonceStr(), ...fields };
  if (opts.sendSignType ?? signType !== 'MD5') all.sign_type = signType;
  all.sign = sign(all, opts.key ?? SBX.apiKey, signType);
  const path = api === 'refund' ? '/sandbox/mch/secapi/pay/refund' : `/sandbox/mch/pay/${api}`;
  const method = opts.method ?? 'POST';
  const r = await fetch(`${baseUrl}${path}`, { method, body: method === 'GET' ? undefined : (opts.rawBody ?? buildXml(all)), headers: { 'content-type': 'text/xml' } });
  const text = await r.text();
  let parsed: Record<string, string> = {};
  try {
    parsed = parseXml(text);
  } catch {
    parsed = {};
  }
  return { status: r.status, text, contentType: r.headers.get('content-type') ?? '', fields: parsed };
}

/** GET /sandbox/sim/orders. */
export async function sandboxOrders(baseUrl: string, outTradeNo?: string): Promise<{ orders: Array<Record<string, any>> }> {
  const r = await fetch(`${baseUrl}/sandbox/sim/orders${outTradeNo ? `?out_trade_no=${encodeURIComponent(outTradeNo)}` : ''}`);
  if (!r.ok) throw new Error(`sim/orders ${r.status}`);
  return r.json();
}

/** One sandbox order by out_trade_no (with its deliveries), or undefined. */
export async function sandboxOrder(baseUrl: string, outTradeNo: string): Promise<Record<string, any> | undefined> {
  return (await sandboxOrders(baseUrl, outTradeNo)).orders.find((o) => o.out_trade_no === outTradeNo);
}

/** POST /sandbox/sim/pay as a buyer: {prepay_id} or {code_url}, result SUCCESS by default. */
export async function sandboxPay(
  baseUrl: string,
  body: { prepay_id?: string; code_url?: string; result?: 'SUCCESS' | 'FAIL' | 'CANCEL' | 'USERPAYING'; openid?: string; coupon_fee?: number; coupon_type?: 'CASH' | 'NO_CASH'; bank_type?: string },
): Promise<{ status: number; json: Record<string, any> }> {
  const r = await fetch(`${baseUrl}/sandbox/sim/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json().catch(() => ({})) };
}

export type FaultBody = { api?: string; fault: 'SYSTEMERROR' | 'RETURN_SYSTEMERROR' | 'NOTENOUGH' | 'BIZERR_NEED_RETRY' | 'FREQUENCY_LIMITED' | 'USER_ACCOUNT_ABNORMAL' | 'REFUNDCLOSE' | 'CHANGE' | 'HTTP500' | 'DELAY' | 'DROP_RESPONSE' | 'DROP_NOTIFY' | 'DUPLICATE_NOTIFY'; count: number; delayMs?: number };

export async function setFaults(baseUrl: string, fault: FaultBody): Promise<void> {
  const r = await fetch(`${baseUrl}/sandbox/sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fault) });
  if (!r.ok) throw new Error(`sim/faults ${r.status}: ${await r.text()}`);
}

export async function clearFaults(baseUrl: string): Promise<void> {
  await fetch(`${baseUrl}/sandbox/sim/faults`, { method: 'DELETE' });
}

/** The default sandbox user's openid under the sandbox appid (what an snsapi_base OAuth round gives). */
export async function defaultOpenid(baseUrl: string): Promise<string> {
  const { openid } = await oauthOpenid(baseUrl);
  return openid;
}

/** A full snsapi_base OAuth round as the sandbox's default user (no cookie): authorize -> code -> token. */
export async function oauthOpenid(baseUrl: string, cookie?: string): Promise<{ openid: string; code: string }> {
  const redirect = `${baseUrl}/oauth-landing`;
  const u = `${baseUrl}/sandbox/open/connect/oauth2/authorize?appid=${SBX.appid}&redirect_uri=${encodeURIComponent(redirect)}&response_type=code&scope=snsapi_base&state=s1#wechat_redirect`;
  const r = await fetch(u, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  if (r.status !== 302) throw new Error(`authorize answered ${r.status}`);
  const code = new URL(r.headers.get('location')!).searchParams.get('code')!;
  const t = await fetch(`${baseUrl}/sandbox/api/sns/oauth2/access_token?appid=${SBX.appid}&secret=${SBX.secret}&code=${code}&grant_type=authorization_code`);
  const j = (await t.json()) as { openid: string };
  return { openid: j.openid, code };
}

export interface Received {
  at: number;
  body: string;
  headers: IncomingMessage['headers'];
}

/**
 * A merchant's notify endpoint on a real local HTTP server. `respond(n)` decides the answer to the
 * n-th request (0-based): status and body. Records every request with its arrival time.
 */
export async function notifyReceiver(respond: (n: number, body: string) => { status: number; body: string } | Promise<{ status: number; body: string }>) {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const n = received.length;
      received.push({ at: Date.now(), body, headers: req.headers });
      const a = await respond(n, body);
      res.writeHead(a.status, { 'content-type': 'text/xml' });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export const SUCCESS_REPLY = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
export const FAIL_REPLY = '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[busy]]></return_msg></xml>';

let seq = 0;
/** A fresh valid out_trade_no (6-32 of [0-9A-Za-z_-|*]). */
export function outTradeNo(prefix = 'T'): string {
  return `${prefix}${Date.now()}${String(++seq).padStart(4, '0')}${Math.floor(Math.random() * 1000)}`.slice(0, 32);
}

/**
 * Polls `fn` until it returns a truthy value; throws after `ms`. The third argument is either the poll
 * interval in ms or, as a string, what is awaited (named in the timeout error).
 */
export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, ms = 15_000, everyOrWhat: number | string = 50): Promise<T> {
  const every = typeof everyOrWhat === 'number' ? everyOrWhat : 50;
  const what = typeof everyOrWhat === 'string' ? everyOrWhat : 'condition';
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
