import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WECHAT_UA } from '../helpers/browser';
import { SBX } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';

/*
 * Snapshot-page users (快照页模式). Opened from a Moments share, a page runs in a snapshot mode whose
 * web-auth answers a virtual account: the token answer carries "is_snapshotuser":1 (a merchant's log in
 * developers.weixin.qq.com/community/develop/doc/00048c10410368a8e13e4f59151c00, found with `search`:
 * {"access_token":"","expires_in":7200,...,"openid":"ociEgwm5tK8xxxxxx","scope":"snsapi_userinfo",...,
 * "is_snapshotuser":1}; the answers there: "is_snapshotuser = 1 时虚拟号，不能用" and "正常用户不会返回
 * is_snapshotuser 这个字段"). The sandbox lets a simulated user be one; the app must not take it as a buyer.
 */

/** One simulated browser's cookies. */
class Jar {
  cookies = new Map<string, string>();
  header = () => [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  take(r: Response) {
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
  }
}

describe('a snapshot-page user in the sandbox', () => {
  let app: AppServer;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => app?.stop());

  const get = async (jar: Jar, url: string) => {
    const r = await fetch(url.startsWith('http') ? url : `${app.baseUrl}${url}`, { redirect: 'manual', headers: { cookie: jar.header(), 'user-agent': WECHAT_UA } });
    jar.take(r);
    return r;
  };
  /** Creates a simulated user from the dashboard form; the jar is switched to it. */
  const newUser = async (jar: Jar, snapshot: boolean) => {
    const form = new URLSearchParams({ action: 'create', name: snapshot ? '快照用户' : '普通用户', ...(snapshot ? { snapshot: '1' } : {}) });
    const r = await fetch(`${app.baseUrl}/sandbox/sim/users`, { method: 'POST', body: form, redirect: 'manual' });
    expect(r.status).toBe(303);
    jar.take(r);
    expect(jar.cookies.get('sandbox_user')).toBeTruthy();
  };
  /** authorize as the jar's user, then the code exchanged at the token endpoint. */
  const tokenAnswer = async (jar: Jar) => {
    const redirect = encodeURIComponent(`${app.baseUrl}/cb`);
    const a = await get(jar, `/sandbox/open/connect/oauth2/authorize?appid=${SBX.appid}&redirect_uri=${redirect}&response_type=code&scope=snsapi_base&state=s1`);
    expect(a.status).toBe(302);
    const code = new URL(a.headers.get('location')!).searchParams.get('code');
    const t = await fetch(`${app.baseUrl}/sandbox/api/sns/oauth2/access_token?appid=${SBX.appid}&secret=${SBX.secret}&code=${code}&grant_type=authorization_code`);
    return (await t.json()) as Record<string, unknown>;
  };

  it('raw HTTP: the token answer carries is_snapshotuser: 1 for a snapshot user, and no such field for a real one', async () => {
    const snap = new Jar();
    await newUser(snap, true);
    expect(await tokenAnswer(snap)).toMatchObject({ openid: expect.any(String), scope: 'snsapi_base', is_snapshotuser: 1 });
    const real = new Jar();
    await newUser(real, false);
    const r = await tokenAnswer(real);
    expect(r.openid).toEqual(expect.any(String));
    expect('is_snapshotuser' in r).toBe(false);
  });

  it('the dashboard marks the snapshot user and offers the choice when creating one', async () => {
    const html = await (await fetch(`${app.baseUrl}/sandbox`)).text();
    expect(html).toContain('data-testid="sandbox-new-user-snapshot"');
    expect(html).toContain('data-testid="sandbox-user-snapshot"');
  });

  it('the app: a snapshot user coming back from OAuth gets the snapshot page and no buyer session; a real user gets the shop', async () => {
    const snap = new Jar();
    await newUser(snap, true);
    const start = await get(snap, '/api/wechat/oauth/start?returnTo=%2Fshop%2Fgreen-tea');
    expect(start.status).toBe(302);
    const authorize = await get(snap, start.headers.get('location')!.replace(/#.*$/, ''));
    const cb = await get(snap, authorize.headers.get('location')!);
    expect(cb.status).toBe(200);
    expect(await cb.text()).toContain('data-testid="oauth-snapshot"');
    // No openid was stored: the shop page still sends this browser through OAuth.
    const shop = await get(snap, '/shop/green-tea');
    expect([302, 307]).toContain(shop.status);
    expect(shop.headers.get('location')).toContain('/api/wechat/oauth/start');

    const real = new Jar();
    await newUser(real, false);
    const s2 = await get(real, '/api/wechat/oauth/start?returnTo=%2Fshop%2Fgreen-tea');
    const a2 = await get(real, s2.headers.get('location')!.replace(/#.*$/, ''));
    const cb2 = await get(real, a2.headers.get('location')!);
    expect(cb2.status).toBe(302);
    expect(cb2.headers.get('location')).toBe('/shop/green-tea');
  });
});
