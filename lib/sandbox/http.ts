import { MAX_XML_BYTES } from '../wechatpay/xml';
import { sandboxOff } from './guard';
import { handleMchApi, isMchApi, refuse } from './mch';

/** One WeChat Pay API over HTTP: the raw body (capped, read before any parsing), the engine's reply as is. */
export async function serveMch(api: string, req: Request): Promise<Response> {
  const off = sandboxOff();
  if (off) return off;
  if (!isMchApi(api)) return new Response('Not Found', { status: 404 });
  const raw = Buffer.from(await req.arrayBuffer());
  const reply = raw.length > MAX_XML_BYTES ? await refuse(api, '请求数据过大') : await handleMchApi(api, req.method, raw);
  if (reply.dropped) return droppedResponse();
  return new Response(reply.body, { status: reply.status, headers: { 'content-type': reply.contentType, 'cache-control': 'no-store' } });
}

/**
 * The DROP_RESPONSE fault: the call has run and committed, but its answer never arrives. The body
 * stream fails before its first byte, so the server cuts the connection and the caller sees a network
 * error, as when a connection drops between WeChat and the merchant.
 */
function droppedResponse(): Response {
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.error(new Error('sandbox DROP_RESPONSE: answer dropped'));
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/xml; charset=utf-8', 'cache-control': 'no-store' } });
}

export function seeOther(location: string, setCookie?: string[]): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  for (const c of setCookie ?? []) headers.append('set-cookie', c);
  return new Response(null, { status: 303, headers });
}

export function html(body: string, status = 200, setCookie?: string[]): Response {
  const headers = new Headers({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  for (const c of setCookie ?? []) headers.append('set-cookie', c);
  return new Response(body, { status, headers });
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Reads a JSON object body; undefined when it is not JSON. */
export async function readJson(req: Request): Promise<unknown> {
  try {
    return await req.json();
  } catch {
    return undefined;
  }
}
