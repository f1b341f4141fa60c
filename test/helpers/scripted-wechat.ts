import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseXml } from '@/lib/wechatpay/xml';
import { signedResponse } from './wechatpay-fixtures';

/**
 * A scripted WeChat Pay v2 server: a real node:http server on 127.0.0.1 that answers each API path with
 * what the test scripted (signed v2 XML, an HTTP error, or a dropped connection) and records every
 * request it got. It stands in for WeChat, not for our code: lib/checkout reaches it over real HTTP
 * through SANDBOX_MCH_BASE_URL (see ./checkout-unit.ts).
 *
 * Replies per path are a queue whose LAST entry repeats, so the client's own retries (network errors,
 * 5xx, SYSTEMERROR are retried with the same body) keep getting the same answer. A path with nothing
 * scripted answers HTTP 404 (not retried by the client), so an unexpected call fails loudly.
 */

/** The sandbox merchant's v2 API key: responses are signed with it (MD5), as the app is configured. */
export const WX_API_KEY = '192006250b4c09247ec02edce69f6a2d';

export type WxPath = '/pay/unifiedorder' | '/pay/orderquery' | '/pay/closeorder' | '/secapi/pay/refund' | '/pay/refundquery';

/**
 * One answer: a full HTTP reply (after `delayMs`, if given), `drop` (the socket is destroyed without an
 * answer), or `hang` (no answer at all, until the client's timeout gives up or the server closes).
 */
export type WxReply = { status?: number; body: string; delayMs?: number } | 'drop' | 'hang';

/** What the scripted WeChat received. */
export interface WxRequest {
  path: string;
  body: string;
  fields: Record<string, string>;
}

/** A scripted answer, or a function of the request that returns one. */
export type WxScript = WxReply | ((req: WxRequest) => WxReply);

/** result_code SUCCESS with `fields`, signed with the sandbox key. */
export function wxOk(fields: Record<string, string> = {}): WxReply {
  return { body: signedResponse(fields, { apiKey: WX_API_KEY }) };
}

/** A business failure (result_code FAIL, err_code), signed like WeChat signs them. */
export function wxFail(errCode: string, errCodeDes = `${errCode} (scripted)`): WxReply {
  return { body: signedResponse({ result_code: 'FAIL', err_code: errCode, err_code_des: errCodeDes }, { apiKey: WX_API_KEY }) };
}

/** A bare HTTP error page, as a failing load balancer answers. */
export function wxHttp(status: number): WxReply {
  return { status, body: `<html><body>${status} scripted</body></html>` };
}

/** A refundquery answer listing one refund (refund_count 1, the `_0` fields). */
export function wxRefundQuery(outRefundNo: string, status: string, refundFeeFen: number, refundId = `50300${outRefundNo.slice(-10)}`): WxReply {
  return wxOk({
    refund_count: '1',
    out_refund_no_0: outRefundNo,
    refund_id_0: refundId,
    refund_status_0: status,
    refund_fee_0: String(refundFeeFen),
  });
}

export interface ScriptedWechat {
  /** http://127.0.0.1:PORT, the value for SANDBOX_MCH_BASE_URL. */
  baseUrl: string;
  port: number;
  /** Every request received, in order. */
  requests: WxRequest[];
  /** The requests received on one path. */
  to(path: WxPath): WxRequest[];
  /** Scripts the answers for one path (replacing what was scripted); the last one repeats. */
  answer(path: WxPath, ...replies: WxScript[]): void;
  /** Forgets every script and every recorded request. */
  reset(): void;
  close(): Promise<void>;
}

export async function startScriptedWechat(): Promise<ScriptedWechat> {
  const requests: WxRequest[] = [];
  const scripts = new Map<string, WxScript[]>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let fields: Record<string, string> = {};
      try {
        fields = parseXml(body);
      } catch {
        /* recorded as received; the fields stay empty */
      }
      const seen: WxRequest = { path: req.url ?? '', body, fields };
      requests.push(seen);
      const queue = scripts.get(seen.path);
      const next = queue && queue.length > 0 ? (queue.length > 1 ? queue.shift()! : queue[0]) : undefined;
      const reply: WxReply = next === undefined ? { status: 404, body: `no reply scripted for ${seen.path}` } : typeof next === 'function' ? next(seen) : next;
      if (reply === 'drop') {
        req.socket.destroy();
        return;
      }
      if (reply === 'hang') return;
      const send = () => res.writeHead(reply.status ?? 200, { 'content-type': 'text/xml; charset=utf-8' }).end(reply.body);
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    requests,
    to: (path) => requests.filter((r) => r.path === path),
    answer: (path, ...replies) => void scripts.set(path, replies),
    reset: () => {
      scripts.clear();
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
