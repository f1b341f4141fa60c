import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WechatOAuthError } from '../../../lib/wechat/errors';
import { authorizeUrl, exchangeCode, isValidState } from '../../../lib/wechat/oauth';

describe('authorizeUrl', () => {
  it('builds the documented URL, parameters in order, redirect_uri encoded, #wechat_redirect', () => {
    const url = authorizeUrl({ openBaseUrl: 'https://open.weixin.qq.com/', appId: 'wxd930ea5d5a258f4f', redirectUri: 'https://shop.example.com/api/wechat/oauth/callback?x=1', scope: 'snsapi_base', state: 'abc123XYZ' });
    expect(url).toBe(
      'https://open.weixin.qq.com/connect/oauth2/authorize?appid=wxd930ea5d5a258f4f&redirect_uri=https%3A%2F%2Fshop.example.com%2Fapi%2Fwechat%2Foauth%2Fcallback%3Fx%3D1&response_type=code&scope=snsapi_base&state=abc123XYZ#wechat_redirect',
    );
    expect(authorizeUrl({ openBaseUrl: 'http://127.0.0.1:3000/sandbox/open', appId: 'wx1', redirectUri: 'http://127.0.0.1:3000/cb', scope: 'snsapi_userinfo', state: 's' })).toContain('/sandbox/open/connect/oauth2/authorize?appid=wx1&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcb&response_type=code&scope=snsapi_userinfo&state=s#wechat_redirect');
  });
  it('refuses a bad state, scope or redirect', () => {
    const ok = { openBaseUrl: 'https://open.weixin.qq.com', appId: 'wx1', redirectUri: 'https://a.test/cb', scope: 'snsapi_base' as const, state: 'abc' };
    expect(() => authorizeUrl({ ...ok, state: 'a-b' })).toThrow(RangeError);
    expect(() => authorizeUrl({ ...ok, state: 'a'.repeat(129) })).toThrow(RangeError);
    expect(() => authorizeUrl({ ...ok, scope: 'snsapi_login' as 'snsapi_base' })).toThrow(RangeError);
    expect(() => authorizeUrl({ ...ok, redirectUri: '/cb' })).toThrow(RangeError);
  });
  it('isValidState', () => {
    expect(isValidState('a'.repeat(128))).toBe(true);
    expect(isValidState('aZ09')).toBe(true);
    expect(isValidState('')).toBe(false);
    expect(isValidState('a'.repeat(129))).toBe(false);
    expect(isValidState('a b')).toBe(false);
    expect(isValidState(undefined)).toBe(false);
  });
});

describe('exchangeCode against a real local HTTP server', () => {
  let server: http.Server;
  let base: string;
  const seen: URL[] = [];
  // code -> [status, body, delayMs]
  const script: Record<string, [number, string, number?]> = {
    good: [200, JSON.stringify({ access_token: 'AT', expires_in: 7200, refresh_token: 'RT', openid: 'oOpenid1', scope: 'snsapi_base' })],
    snap: [200, JSON.stringify({ access_token: 'AT', expires_in: 7200, refresh_token: 'RT', openid: 'oSnap', scope: 'snsapi_base', is_snapshotuser: 1, unionid: 'uU' })],
    bad: [200, JSON.stringify({ errcode: 40029, errmsg: 'invalid code, rid: 6555' })],
    used: [200, JSON.stringify({ errcode: 40163, errmsg: 'code been used, rid: 1' })],
    old: [200, JSON.stringify({ errcode: 42003, errmsg: 'code expired' })],
    appid: [200, JSON.stringify({ errcode: 40013, errmsg: 'invalid appid' })],
    secret: [200, JSON.stringify({ errcode: 40125, errmsg: 'invalid appsecret' })],
    busy: [200, JSON.stringify({ errcode: -1, errmsg: 'system error' })],
    odd: [200, JSON.stringify({ errcode: 99999, errmsg: 'x' })],
    html: [502, '<html>bad gateway</html>'],
    slow: [200, '{}', 1000],
  };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push(url);
      const [status, body, delay] = script[url.searchParams.get('code') ?? ''] ?? [404, 'no'];
      setTimeout(() => res.writeHead(status, { 'content-type': 'application/json' }).end(body), delay ?? 0);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sandbox/api`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const call = (code: string, timeoutMs?: number) => exchangeCode({ apiBaseUrl: base, appId: 'wxd930ea5d5a258f4f', secret: 's&cret', code, timeoutMs });

  it('returns the openid and calls the documented path with the documented query', async () => {
    await expect(call('good')).resolves.toEqual({ openid: 'oOpenid1', scope: 'snsapi_base', accessToken: 'AT', expiresIn: 7200, refreshToken: 'RT', isSnapshotUser: false });
    const url = seen.at(-1)!;
    expect(url.pathname).toBe('/sandbox/api/sns/oauth2/access_token');
    expect([...url.searchParams.keys()]).toEqual(['appid', 'secret', 'code', 'grant_type']);
    expect(url.searchParams.get('secret')).toBe('s&cret');
    expect(url.searchParams.get('grant_type')).toBe('authorization_code');
  });
  it('flags a snapshot-page virtual user', async () => {
    await expect(call('snap')).resolves.toMatchObject({ openid: 'oSnap', isSnapshotUser: true, unionid: 'uU' });
  });
  it.each([
    ['bad', 40029, 'invalid_code'],
    ['used', 40163, 'code_used'],
    ['old', 42003, 'code_expired'],
    ['appid', 40013, 'invalid_appid'],
    ['secret', 40125, 'invalid_secret'],
    ['busy', -1, 'network'],
    ['odd', 99999, 'unknown'],
  ] as const)('code %s -> errcode %i, kind %s', async (code, errcode, kind) => {
    const err = await call(code).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatOAuthError);
    expect(err).toMatchObject({ errcode, kind });
  });
  it('missing code fails locally as 41008 without a request', async () => {
    const before = seen.length;
    await expect(call('')).rejects.toMatchObject({ errcode: 41008, kind: 'missing_code' });
    expect(seen.length).toBe(before);
  });
  it('non-JSON, timeouts and unreachable servers are kind network', async () => {
    await expect(call('html')).rejects.toMatchObject({ kind: 'network' });
    await expect(call('slow', 100)).rejects.toMatchObject({ kind: 'network', message: expect.stringContaining('100 ms') });
    const dead = exchangeCode({ apiBaseUrl: 'http://127.0.0.1:1', appId: 'wx1', secret: 's', code: 'c' });
    await expect(dead).rejects.toMatchObject({ name: 'WechatOAuthError', kind: 'network', errcode: -1 });
  });
});
