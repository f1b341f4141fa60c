import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyObject } from 'node:crypto';
import { responseMessage, rsaSign, v3Nonce } from '../../lib/wechatpay/v3';

/** One request as a scripted v3 WeChat saw it. */
export interface SeenV3 {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

/** What a scripted handler answers; `sign: false` leaves the Wechatpay-* headers off, `signWith` overrides the key. */
export interface ScriptedV3Answer {
  status: number;
  body?: string | Buffer;
  sign?: boolean;
  signWith?: { key: KeyObject; serial: string };
  timestamp?: number;
  drop?: boolean;
}

/**
 * A stand-in for WeChat Pay's v3 host in unit tests: real HTTP on a loopback port, answers chosen by
 * the test, signed as WeChat signs them (timestamp\nnonce\nbody\n, RSA-SHA256) with the given key.
 */
export async function startScriptedV3(signer: { key: KeyObject; serial: string }, handler: (r: SeenV3) => ScriptedV3Answer | Promise<ScriptedV3Answer>): Promise<{ url: string; seen: SeenV3[]; close: () => Promise<void> }> {
  const seen: SeenV3[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const r: SeenV3 = { method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(r);
      const a = await handler(r);
      if (a.drop) {
        req.socket.destroy();
        return;
      }
      const body = a.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(a.body) ? a.body : Buffer.from(a.body, 'utf8');
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (a.sign !== false) {
        const s = a.signWith ?? signer;
        const ts = String(Math.floor((a.timestamp ?? Date.now()) / 1000));
        const nonce = v3Nonce();
        Object.assign(headers, { 'wechatpay-timestamp': ts, 'wechatpay-nonce': nonce, 'wechatpay-serial': s.serial, 'wechatpay-signature': rsaSign(responseMessage(ts, nonce, body.toString('utf8')), s.key) });
      }
      res.writeHead(a.status, headers);
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.close(() => r())) };
}
