/**
 * The counting proxy's process (see ./counting-proxy.ts): forwards every request to PROXY_TARGET and
 * records it; answers `{type: 'dump'}` on IPC with the hits so far. A process of its own so that the
 * bench's load generator, busy in the parent, neither delays the app's calls to the sandbox nor skews
 * the recorded times.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProxyHit } from './counting-proxy';

const target = new URL(process.env.PROXY_TARGET!);
const hits: ProxyHit[] = [];
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const epoch = () => performance.timeOrigin + performance.now();
const field = (xml: string, name: string) => new RegExp(`<${name}>(?:<!\\[CDATA\\[)?([^<\\]]*)`).exec(xml)?.[1] ?? null;

const server = http.createServer((req, res) => {
  const at = epoch();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const text = body.toString('utf8');
    const hit: ProxyHit = {
      at, api: (req.url ?? '').split('?')[0].split('/').pop() ?? '', outTradeNo: field(text, 'out_trade_no'), nonce: field(text, 'nonce_str'),
      ms: null, status: null, clientGone: false,
    };
    hits.push(hit);
    res.on('close', () => {
      if (!res.writableFinished) hit.clientGone = true;
    });
    const up = http.request({
      host: target.hostname, port: target.port, method: req.method, path: target.pathname.replace(/\/$/, '') + (req.url ?? ''),
      headers: { ...req.headers, host: target.host, 'content-length': String(body.length) }, agent,
    }, (ur) => {
      hit.status = ur.statusCode ?? null;
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
      ur.on('end', () => (hit.ms = epoch() - at));
    });
    up.on('error', (e) => {
      hit.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${e.message}`);
    });
    up.end(body);
  });
});

server.listen(0, '127.0.0.1', () => {
  process.send!({ type: 'ready', port: (server.address() as AddressInfo).port });
});
process.on('message', (m: { type: string }) => {
  if (m.type === 'dump') process.send!({ type: 'hits', hits });
});
process.on('disconnect', () => process.exit(0));
