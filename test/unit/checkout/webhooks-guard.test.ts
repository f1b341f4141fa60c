import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedAddress, Resolver } from '@/lib/checkout/webhooks/url-guard';

type Guard = typeof import('@/lib/checkout/webhooks/url-guard');
type Endpoints = typeof import('@/lib/checkout/webhooks/endpoints');
type Send = typeof import('@/lib/checkout/webhooks/send');

/**
 * The webhook SSRF guard without a database or any traffic off this machine: addresses are classified,
 * URLs refused at creation in live mode, and a delivery to a name that resolves (or rebinds) to a
 * forbidden address is refused before any connection, checked on a TCP server that counts connections.
 */
describe('webhook URL guard', () => {
  let g: Guard;
  let ep: Endpoints;
  let send: Send;
  let server: net.Server;
  let port: number;
  let connections = 0;
  const sockets = new Set<net.Socket>();
  beforeAll(async () => {
    g = await import('@/lib/checkout/webhooks/url-guard');
    ep = await import('@/lib/checkout/webhooks/endpoints');
    send = await import('@/lib/checkout/webhooks/send');
    server = net.createServer((s) => {
      connections++;
      sockets.add(s);
      s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    server.close(() => r());
  }));

  const fixed = (...addrs: string[]): Resolver => async () => addrs.map((address) => ({ address, family: net.isIP(address) }));

  it('classifies loopback, private, link-local, unique-local, unspecified and embedded IPv4, v4 and v6', () => {
    const forbidden: Array<[string, string]> = [
      ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'], ['169.254.169.254', 'link-local'], ['0.0.0.0', 'unspecified'], ['100.64.0.1', 'shared carrier NAT'],
      ['224.0.0.1', 'multicast'], ['255.255.255.255', 'reserved'],
      ['::1', 'loopback'], ['::', 'unspecified'], ['fe80::1', 'link-local'], ['fe80::1%eth0', 'link-local'], ['fd12:3456::1', 'unique-local'],
      ['fc00::5', 'unique-local'], ['ff02::1', 'multicast'],
      ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:10.0.0.1', 'private'], ['::ffff:169.254.169.254', 'link-local'],
      ['::ffff:0.0.0.0', 'unspecified'], ['64:ff9b::192.168.0.1', 'private'], ['2002:c0a8:0101::1', 'private'], ['::127.0.0.1', 'loopback'],
    ];
    for (const [ip, why] of forbidden) expect(g.forbiddenAddressReason(ip), ip).toBe(why);
    for (const ip of ['203.0.113.7', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8']) {
      expect(g.forbiddenAddressReason(ip), ip).toBeNull();
    }
    expect(g.forbiddenAddressReason('example.com')).toBe('not an IP address');
  });

  it('live mode refuses at creation: http, private literals, a name resolving to any private address; sandbox allows 127.0.0.1', async () => {
    const live = (url: unknown, r: Resolver = fixed('203.0.113.7')) => ep.checkWebhookUrl(url, 'live', r);
    for (const url of ['https://10.0.0.5/hook', 'https://127.0.0.1/x', 'https://[::1]/x', 'https://[::ffff:192.168.0.1]/x', 'https://[fd00::1]/x',
      'https://169.254.169.254/latest/meta-data', 'https://0.0.0.0/x', 'https://[::]/x', 'https://2130706433/x' /* 127.0.0.1 as one number */]) {
      const r = await live(url);
      expect(r, url).toMatchObject({ ok: false, error: { status: 400, code: 'url_forbidden', param: 'url' } });
    }
    const named = await live('https://hooks.example.com/x', fixed('203.0.113.7', '10.0.0.8'));
    expect(named).toMatchObject({ ok: false, error: { code: 'url_forbidden' } });
    expect(named.ok ? '' : named.error.message).toContain('hooks.example.com resolves to 10.0.0.8, which is private');
    expect(await live('http://hooks.example.com/x')).toMatchObject({ ok: false, error: { code: 'parameter_invalid', param: 'url', message: 'url must be https in live mode' } });
    expect(await live('https://hooks.example.com/x')).toEqual({ ok: true, value: 'https://hooks.example.com/x' });
    expect(await live('https://203.0.113.7/x')).toEqual({ ok: true, value: 'https://203.0.113.7/x' });
    expect(await ep.checkWebhookUrl('http://127.0.0.1:3000/sandbox/webhooks/receive', 'sandbox')).toMatchObject({ ok: true });
    for (const [url, message] of [
      [undefined, 'url is required'], [42, 'url must be a string'], ['ftp://x.example/', 'url must be http or https, got ftp'],
      ['https://u:p@x.example/', 'url must not carry a user name or password (they would be shown on every delivery)'], ['not a url', 'url must not contain spaces'],
    ] as const) {
      const r = await ep.checkWebhookUrl(url, 'sandbox');
      expect(r.ok ? '' : r.error.message, String(url)).toBe(message);
    }
  });

  it('a delivery in live mode to a name that now resolves to loopback is refused without connecting (DNS rebinding)', async () => {
    let calls = 0;
    // Public when the endpoint was created, loopback at delivery time.
    const rebinding: Resolver = async () => (calls++ === 0 ? [{ address: '203.0.113.7', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
    expect(await ep.checkWebhookUrl(`https://hooks.example.com:${port}/x`, 'live', rebinding)).toMatchObject({ ok: true });
    const before = connections;
    const r = await send.postWebhook(`https://hooks.example.com:${port}/x`, '{}', {}, { guard: true, resolve: rebinding });
    expect(r).toMatchObject({ statusCode: null, head: null });
    expect(r.error).toBe('refused: hooks.example.com resolves to 127.0.0.1, which is loopback');
    const literal = await send.postWebhook(`https://127.0.0.1:${port}/x`, '{}', {}, { guard: true });
    expect(literal.error).toBe('refused: 127.0.0.1 is loopback');
    expect((await send.postWebhook(`http://localhost:${port}/x`, '{}', {}, { guard: true })).error).toBe('refused: live mode sends webhooks over https only');
    expect(connections).toBe(before);
    // The same server in sandbox mode (no guard) is reached: the refusals above were the guard's.
    const open = await send.postWebhook(`http://127.0.0.1:${port}/x`, '{}', {}, { guard: false });
    expect(open).toMatchObject({ statusCode: 200, error: null, head: 'ok' });
    expect(connections).toBe(before + 1);
  });

  it('the guarded lookup resolves once and hands the socket exactly the addresses it checked', async () => {
    let calls = 0;
    const once: Resolver = async () => {
      calls++;
      return [{ address: '203.0.113.7', family: 4 }, { address: '2606:4700::1111', family: 6 }];
    };
    const lookup = g.guardedLookup(once);
    const all = await new Promise<ResolvedAddress[]>((resolve, reject) =>
      lookup('hooks.example.com', { all: true }, ((err: Error | null, addrs: ResolvedAddress[]) => (err ? reject(err) : resolve(addrs))) as never));
    expect(all).toEqual([{ address: '203.0.113.7', family: 4 }, { address: '2606:4700::1111', family: 6 }]);
    const v6 = await new Promise<string>((resolve, reject) => lookup('hooks.example.com', { family: 6 }, (err, a) => (err ? reject(err) : resolve(a as string))));
    expect(v6).toBe('2606:4700::1111');
    expect(calls).toBe(2);
    const refused = await new Promise<NodeJS.ErrnoException | null>((resolve) => g.guardedLookup(fixed('203.0.113.7', 'fe80::1'))('x.example', {}, (err) => resolve(err)));
    expect(refused?.code).toBe('EWEBHOOKFORBIDDEN');
    expect(refused?.message).toBe('refused: x.example resolves to fe80::1, which is link-local');
  });
});
