import { randomBytes, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { ClientAddress } from '@/lib/checkout/kernel';

/*
 * The TCP peer address of a request, which Next 16 does not give route handlers or server actions:
 * they see a Web Request whose only trace of the socket is the X-Forwarded-For that base-server.js
 * fills with `??=`, i.e. only when the client sent none. So a client picks its own "address" by
 * sending the header.
 *
 * `next start` serves every request from one node:http server in the process that also runs
 * instrumentation.ts. installPeerAddressHook (called from there) wraps the server's 'request' event,
 * before Next's handler sees the request, and overwrites our own header with a per-process token and
 * socket.remoteAddress, whatever the client put in it. peerAddress believes the header only with the
 * token, so a request that reached a handler without passing the hook (it arrived before the hook was
 * installed, or the app is served some other way) reads as "peer unknown", never as a forged address.
 */

/** The request header the hook writes; any client-sent value is replaced. */
export const PEER_HEADER = 'x-wxcheckout-peer';

/** Every event Node hands a parsed request with ('checkContinue' and 'checkExpectation' when someone listens for them). */
const REQUEST_EVENTS = new Set<string | symbol>(['request', 'checkContinue', 'checkExpectation']);

const tokenKey = Symbol.for('wechat-checkout.peer-token');
type Holder = { [tokenKey]?: string };

function stamp(req: IncomingMessage, token: string): void {
  // An unknown address is stamped empty (clientIp's fallback), not left to the client's header.
  req.headers[PEER_HEADER] = `${token} ${req.socket?.remoteAddress ?? ''}`;
}

/**
 * Installs the hook on this process's HTTP(S) servers, once. Patching the prototypes reaches the
 * server `next start` created before instrumentation ran, without depending on Next's internals: only
 * on Node emitting 'request' for every request it parses.
 */
export function installPeerAddressHook(): void {
  const g = globalThis as Holder;
  if (g[tokenKey]) return;
  const token = randomBytes(18).toString('base64url');
  for (const proto of [http.Server.prototype, https.Server.prototype]) {
    const emit = proto.emit;
    proto.emit = function emitWithPeer(this: unknown, event: string | symbol, ...args: unknown[]): boolean {
      if (REQUEST_EVENTS.has(event) && args[0]) stamp(args[0] as IncomingMessage, token);
      return Reflect.apply(emit, this, [event, ...args]) as boolean;
    } as typeof proto.emit;
  }
  g[tokenKey] = token;
}

/** The socket address the hook stamped on this request, or undefined when it did not. */
export function peerAddress(headers: { get(name: string): string | null }): string | undefined {
  const token = (globalThis as Holder)[tokenKey];
  const raw = headers.get(PEER_HEADER);
  if (!token || !raw) return undefined;
  const space = raw.indexOf(' ');
  if (space < 0) return undefined;
  const given = Buffer.from(raw.slice(0, space));
  const want = Buffer.from(token);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return undefined;
  return raw.slice(space + 1);
}

/** Where the request came from, as the plain values lib/checkout's clientIp rule takes. */
export function clientAddress(headers: { get(name: string): string | null }): ClientAddress {
  return { peer: peerAddress(headers), forwardedFor: headers.get('x-forwarded-for') };
}
