import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Answers the sandbox does not give: a snapshot-page user (is_snapshotuser: 1) and an unreachable
 * token endpoint. A small HTTP server stands in for api.weixin.qq.com; completeOAuth talks to it over
 * real HTTP through the app's OAuth client.
 */
describe('OAuth callback outcomes WeChat can produce', () => {
  let server: http.Server;
  let answer: () => [number, string];
  let oauth: typeof import('@/lib/checkout/buyer');
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const [status, body] = answer();
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    // Sandbox mode reaches the token endpoint at http://127.0.0.1:$PORT/sandbox/api: point it at our stand-in.
    Object.assign(process.env, {
      WECHAT_MODE: 'sandbox',
      PORT: String(port),
      DATABASE_URL: `file:${path.join(mkdtempSync(path.join(os.tmpdir(), 'h4oauth-')), 'x.db')}`,
    });
    oauth = await import('@/lib/checkout/buyer');
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('a snapshot user is not taken as a buyer', async () => {
    answer = () => [200, JSON.stringify({ access_token: 'a', expires_in: 7200, refresh_token: 'r', openid: 'oSnap', scope: 'snsapi_base', is_snapshotuser: 1 })];
    const session = { oauthState: 'abc123abc123', returnTo: '/shop/x' } as Record<string, unknown>;
    const r = await oauth.completeOAuth(session, 'CODE', 'abc123abc123');
    expect(r).toEqual({ kind: 'error', reason: 'snapshot' });
    expect(session.openid).toBeUndefined();
    expect(session.oauthState).toBeUndefined();
  });

  it('a real user gets the openid and goes back to returnTo; the state is single-use', async () => {
    answer = () => [200, JSON.stringify({ access_token: 'a', expires_in: 7200, refresh_token: 'r', openid: 'oReal', scope: 'snsapi_base' })];
    const session: Record<string, unknown> = { oauthState: 'abc123abc123', returnTo: '/shop/x' };
    expect(await oauth.completeOAuth(session, 'CODE', 'abc123abc123')).toEqual({ kind: 'done', location: '/shop/x' });
    expect(session.openid).toBe('oReal');
    expect(session.buyerId).toMatch(/^b_/);
    expect(await oauth.completeOAuth(session, 'CODE', 'abc123abc123')).toEqual({ kind: 'error', reason: 'state' });
  });

  it('WeChat unreachable or refusing: a clear upstream error, no openid', async () => {
    answer = () => [200, JSON.stringify({ errcode: 40029, errmsg: 'invalid code, rid: x' })];
    const session: Record<string, unknown> = { oauthState: 'abc123abc123', returnTo: '/shop/x' };
    expect(await oauth.completeOAuth(session, 'CODE', 'abc123abc123')).toMatchObject({ kind: 'error', reason: 'upstream', detail: '40029' });
    expect(session.openid).toBeUndefined();
  });
});
