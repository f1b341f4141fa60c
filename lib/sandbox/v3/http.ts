import { MAX_XML_BYTES } from '../../wechatpay/xml';
import { type FaultApi, takeApiFaults } from '../faults';
import { sandboxOff } from '../guard';
import { recordRefusal } from '../requests';
import { parseAuthorization } from '../../wechatpay/v3/sign';
import { checkAuthorization } from './auth';
import { certificatesBody, envV3Identity, type V3Identity, v3IdentityFor, wechatpayHeaders } from './identity';
import { billDownloadV3, createV3Refund, queryV3Refund, tradeBillV3 } from './refund';
import { v3Error, v3ParamError, type V3Reply } from './reply';
import { closeV3Order, placeV3Order, queryV3Order } from './trade';

type Route = { api: FaultApi | 'certificates'; method: 'GET' | 'POST'; run: (body: Record<string, unknown>, url: URL, id: V3Identity) => Promise<V3Reply> };

/** The v3 paths under /sandbox/mch (the real ones under https://api.mch.weixin.qq.com), each with the fault name it shares with v2. */
function route(path: string): Route | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^\/v3\/pay\/transactions\/(jsapi|native|h5)$/.exec(path))) {
    const kind = m[1] as 'jsapi' | 'native' | 'h5';
    return { api: 'unifiedorder', method: 'POST', run: (b, _u, id) => placeV3Order(id, kind, b) };
  }
  if ((m = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)$/.exec(path))) {
    const otn = decodeURIComponent(m[1]);
    return { api: 'orderquery', method: 'GET', run: (_b, u, id) => queryV3Order(id, otn, u.searchParams.get('mchid')) };
  }
  if ((m = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)\/close$/.exec(path))) {
    const otn = decodeURIComponent(m[1]);
    return { api: 'closeorder', method: 'POST', run: (b, _u, id) => closeV3Order(id, otn, b) };
  }
  if (path === '/v3/refund/domestic/refunds') return { api: 'refund', method: 'POST', run: (b, _u, id) => createV3Refund(id, b) };
  if ((m = /^\/v3\/refund\/domestic\/refunds\/([^/]+)$/.exec(path))) {
    const orn = decodeURIComponent(m[1]);
    return { api: 'refundquery', method: 'GET', run: (_b, _u, id) => queryV3Refund(id, orn) };
  }
  if (path === '/v3/bill/tradebill') return { api: 'downloadbill', method: 'GET', run: (_b, u, id) => tradeBillV3(id, u.searchParams, u.origin) };
  if (path === '/v3/billdownload/file') return { api: 'downloadbill', method: 'GET', run: (_b, u, id) => billDownloadV3(id, u.searchParams) };
  if (path === '/v3/certificates') return { api: 'certificates', method: 'GET', run: async (_b, _u, id) => ({ status: 200, body: certificatesBody(id), sign: true }) };
  return undefined;
}

/**
 * WeChat Pay v3's side of one call, in WeChat's order: faults first (as the network would), then the
 * route and method, the Authorization signature (401 SIGN_ERROR otherwise, recorded for the dashboard),
 * the JSON body, then the API, for the merchant the Authorization names. Every answer but the bill file
 * is signed with that merchant's WeChat Pay key (or platform certificate, see identity.ts).
 */
async function handle(req: Request, url: URL, raw: Buffer): Promise<V3Reply & { identity?: V3Identity }> {
  const path = url.pathname.replace(/^\/sandbox\/mch/, '');
  const r = route(path);
  if (!r) return v3Error(404, 'RESOURCE_NOT_EXISTS', `无此接口：${path}`);
  const fault = r.api === 'certificates' ? { delayMs: 0, failure: undefined, dropResponse: false } : takeApiFaults(r.api);
  if (fault.delayMs > 0) await new Promise((ok) => setTimeout(ok, fault.delayMs));
  if (fault.failure === 'HTTP500') return { status: 500, body: '<html><body><h1>500 Internal Server Error</h1></body></html>', contentType: 'text/html; charset=utf-8', sign: false };
  if (req.method !== r.method) return v3Error(405, 'INVALID_REQUEST', `请使用${r.method}方法`);
  const text = raw.toString('utf8');
  const auth = await checkAuthorization(req.method, url.pathname + url.search, req.headers.get('authorization'), text);
  if ('refused' in auth) {
    await recordRefusal(`v3 ${path}`, (JSON.parse(auth.refused.body as string) as { message: string }).message);
    return auth.refused;
  }
  const identity = auth.identity;
  if (fault.failure === 'SYSTEMERROR') return v3Error(500, 'SYSTEM_ERROR', '系统错误');
  if (fault.failure === 'FREQUENCY_LIMITED') return v3Error(429, 'FREQUENCY_LIMITED', '请求频率超限，请降低频率后重试');
  // v2's faults in v3's words: the transient refusal is a 500 SYSTEM_ERROR; the refund refusals keep their codes.
  if (fault.failure === 'RETURN_SYSTEMERROR' || fault.failure === 'BIZERR_NEED_RETRY') return v3Error(500, 'SYSTEM_ERROR', '系统错误稍后再试');
  if (fault.failure === 'NOTENOUGH') return v3Error(403, 'NOT_ENOUGH', '基本账户余额不足，请充值后重新发起');
  if (fault.failure === 'USER_ACCOUNT_ABNORMAL') return v3Error(403, 'USER_ACCOUNT_ABNORMAL', '用户账户异常或已注销，不能原路退回，请使用其他方式进行退款。');
  let body: Record<string, unknown> = {};
  if (r.method === 'POST') {
    try {
      const j = JSON.parse(text) as unknown;
      if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new Error('not an object');
      body = j as Record<string, unknown>;
    } catch {
      return v3ParamError('/', '请求体不是合法的JSON对象');
    }
  }
  const reply = await r.run(body, url, identity);
  return { ...reply, identity, ...(fault.dropResponse ? { dropped: true } : {}) };
}

/** The route handler's whole job: cap the body, run the call, sign and write the answer. */
export async function serveMchV3(req: Request): Promise<Response> {
  const off = sandboxOff();
  if (off) return off;
  const url = new URL(req.url);
  const raw = Buffer.from(await req.arrayBuffer());
  const reply: V3Reply & { identity?: V3Identity } = raw.length > MAX_XML_BYTES ? v3Error(413, 'INVALID_REQUEST', '请求数据过大') : await handle(req, url, raw);
  if (reply.dropped) {
    const body = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error('sandbox DROP_RESPONSE: answer dropped')) });
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
  }
  const text = typeof reply.body === 'string' ? reply.body : reply.body.toString('utf8');
  // Signed for the merchant the call was for; a refusal before that is known, as the header's mchid (else the checkout's own).
  const signer = reply.sign ? (reply.identity ?? (await v3IdentityFor(parseAuthorization(req.headers.get('authorization'))?.mchid)) ?? envV3Identity()) : undefined;
  const headers: Record<string, string> = { 'content-type': reply.contentType ?? 'application/json; charset=utf-8', 'cache-control': 'no-store', ...(signer ? wechatpayHeaders(text, signer) : {}) };
  return new Response(reply.status === 204 ? null : new Uint8Array(typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : reply.body), { status: reply.status, headers });
}
