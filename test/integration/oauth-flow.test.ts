import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WECHAT_UA } from '../helpers/browser';
import { type AppServer, startApp } from '../helpers/server';

/**
 * The OAuth round trip over real HTTP against the sandbox's authorize and access_token endpoints, with
 * a hand-kept cookie jar (one per simulated browser).
 */
class Jar {
  cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(r: Response) {
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
  }
  clone(): Jar {
    const j = new Jar();
    j.cookies = new Map(this.cookies);
    return j;
  }
}

async function get(app: AppServer, jar: Jar, url: string): Promise<Response> {
  const r = await fetch(url.startsWith('http') ? url : `${app.baseUrl}${url}`, { redirect: 'manual', headers: { cookie: jar.header(), 'user-agent': WECHAT_UA } });
  jar.take(r);
  return r;
}

/** start -> authorize: returns the callback URL WeChat (the sandbox) redirects to, code and state in it. */
async function startToCallback(app: AppServer, jar: Jar, returnTo: string): Promise<string> {
  const s = await get(app, jar, `/api/wechat/oauth/start?returnTo=${encodeURIComponent(returnTo)}`);
  expect(s.status).toBe(302);
  const authorize = s.headers.get('location')!;
  expect(authorize).toContain('/sandbox/open/connect/oauth2/authorize?');
  expect(authorize).toContain('scope=snsapi_base');
  expect(authorize.endsWith('#wechat_redirect')).toBe(true);
  return authorizeToCallback(app, jar, authorize);
}

async function authorizeToCallback(app: AppServer, jar: Jar, authorize: string): Promise<string> {
  const a = await get(app, jar, authorize.replace(/#.*$/, ''));
  expect(a.status).toBe(302);
  const cb = a.headers.get('location')!;
  expect(cb).toContain('/api/wechat/oauth/callback?');
  return cb;
}

describe('WeChat OAuth (snsapi_base) through the sandbox', () => {
  let app: AppServer;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('a WeChat buyer without an openid is sent through OAuth and comes back to the shop page by 302', async () => {
    const jar = new Jar();
    const shop = await get(app, jar, '/shop/green-tea');
    expect([302, 307]).toContain(shop.status);
    expect(shop.headers.get('location')).toBe('/api/wechat/oauth/start?returnTo=%2Fshop%2Fgreen-tea');
    const cb = await startToCallback(app, jar, '/shop/green-tea');
    const done = await get(app, jar, cb);
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/shop/green-tea');
    const again = await get(app, jar, '/shop/green-tea');
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('data-testid="pay-button"');
  });

  it('refuses a forged or missing state, spends no code and stores no openid', async () => {
    const jar = new Jar();
    const cb = new URL(await startToCallback(app, jar, '/shop/green-tea'));
    const forged = new URL(cb);
    forged.searchParams.set('state', 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0');
    const r = await get(app, jar, forged.pathname + forged.search);
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('data-testid="oauth-error"');
    const noState = await get(app, new Jar(), `/api/wechat/oauth/callback?code=${cb.searchParams.get('code')}&state=${cb.searchParams.get('state')}`);
    expect(noState.status).toBe(400);
    // Still no openid in this session: the shop page sends it to OAuth again.
    expect([302, 307]).toContain((await get(app, jar, '/shop/green-tea')).status);
    // And the code was not spent: the real callback still works.
    const ok = await get(app, jar, cb.pathname + cb.search);
    expect(ok.status).toBe(302);
    expect(ok.headers.get('location')).toBe('/shop/green-tea');
  });

  it('accepts returnTo only as a same-origin relative path', async () => {
    for (const [raw, expected] of [['//evil.example/x', '/'], ['https://evil.example/', '/'], ['/\\evil.example', '/'], ['/shop/test-1fen?x=1', '/shop/test-1fen?x=1']]) {
      const jar = new Jar();
      const cb = await startToCallback(app, jar, raw);
      const done = await get(app, jar, cb);
      expect(done.headers.get('location')).toBe(expected);
    }
  });

  it('40163 (code already used) restarts OAuth once, then shows a clear page', async () => {
    const jar = new Jar();
    const cb = await startToCallback(app, jar, '/shop/coffee-beans');
    const before = jar.clone(); // the same redirect arriving twice, as some WebViews do
    expect((await get(app, jar, cb)).status).toBe(302);
    // Second arrival: the session it carries never got the openid, and the code is spent.
    const second = await get(app, before, cb);
    expect(second.status).toBe(302);
    const restart = second.headers.get('location')!;
    expect(restart).toContain('/sandbox/open/connect/oauth2/authorize?');
    const cb2 = await authorizeToCallback(app, before, restart);
    const beforeSecondUse = before.clone();
    const done = await get(app, before, cb2);
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/shop/coffee-beans');
    // The restarted round's code used again from the pre-success session: no second restart.
    const gaveUp = await get(app, beforeSecondUse, cb2);
    expect(gaveUp.status).toBe(400);
    const html = await gaveUp.text();
    expect(html).toContain('data-testid="oauth-error"');
    expect(html).toContain('微信授权码已被使用');
  });
});
