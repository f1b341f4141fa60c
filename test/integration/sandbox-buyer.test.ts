import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import type { SandboxTables } from '@/lib/sandbox/schema';
import { sign, type SignType } from '@/lib/wechatpay/sign';
import { type AppServer, startApp } from '../helpers/server';
import { outTradeNo, SBX, sandboxPay, wxPost } from '../helpers/sandbox';

/** The buyer's side of the sandbox: OAuth, simulated users, POST /sandbox/sim/pay, the JSAPI check bridge.js relies on. */
describe('sandbox buyer side (SQLite)', () => {
  let app: AppServer;
  let base: string;
  let dbh: DbHandle;
  const sdb = () => dbh.db.withTables<SandboxTables>();
  beforeAll(async () => {
    app = await startApp();
    base = app.baseUrl;
    dbh = openDb(app.databaseUrl);
  });
  afterAll(async () => {
    await dbh?.close();
    await app?.stop();
  });

  const redirect = () => `${base}/api/wechat/oauth/callback`;
  const authorizeUrl = (over: Record<string, string> = {}) => {
    const q = new URLSearchParams({ appid: SBX.appid, redirect_uri: redirect(), response_type: 'code', scope: 'snsapi_base', state: 'abc123', ...over });
    return `${base}/sandbox/open/connect/oauth2/authorize?${q}#wechat_redirect`;
  };
  const token = async (code: string, over: Record<string, string> = {}) => {
    const q = new URLSearchParams({ appid: SBX.appid, secret: SBX.secret, code, grant_type: 'authorization_code', ...over });
    const r = await fetch(`${base}/sandbox/api/sns/oauth2/access_token?${q}`);
    expect(r.status).toBe(200);
    return (await r.json()) as Record<string, any>;
  };
  async function authorize(cookie?: string, over: Record<string, string> = {}) {
    const r = await fetch(authorizeUrl(over), { redirect: 'manual', headers: cookie ? { cookie } : {} });
    return r;
  }
  async function codeFor(cookie?: string) {
    const r = await authorize(cookie);
    expect(r.status).toBe(302);
    return new URL(r.headers.get('location')!).searchParams.get('code')!;
  }

  describe('OAuth', () => {
    it('snsapi_base redirects silently to redirect_uri?code&state and sets the user cookie on /sandbox', async () => {
      const r = await authorize();
      expect(r.status).toBe(302);
      const loc = new URL(r.headers.get('location')!);
      expect(`${loc.origin}${loc.pathname}`).toBe(redirect());
      expect(loc.searchParams.get('state')).toBe('abc123');
      expect(loc.searchParams.get('code')).toMatch(/^[0-9A-Za-z]{20,}$/);
      expect(r.headers.get('set-cookie')).toMatch(/sandbox_user=u_default; Path=\/sandbox/);
      const t = await token(loc.searchParams.get('code')!);
      expect(t).toMatchObject({ expires_in: 7200, scope: 'snsapi_base' });
      expect(t.access_token).toEqual(expect.any(String));
      expect(t.refresh_token).toEqual(expect.any(String));
      expect(t.openid).toMatch(/^o[A-Za-z0-9_-]{27}$/);
      expect(t.is_snapshotuser).toBeUndefined();
    });

    it('keeps the query string of redirect_uri and gives a stable openid', async () => {
      const r = await authorize(undefined, { redirect_uri: `${base}/cb?returnTo=%2Fshop` });
      const loc = new URL(r.headers.get('location')!);
      expect(loc.searchParams.get('returnTo')).toBe('/shop');
      const a = await token(loc.searchParams.get('code')!);
      const b = await token(await codeFor());
      expect(a.openid).toBe(b.openid);
    });

    it('codes are single-use (40163) and live 5 minutes (42003)', async () => {
      const code = await codeFor();
      expect((await token(code)).openid).toBeTruthy();
      expect((await token(code)).errcode).toBe(40163);
      const old = await codeFor();
      await sdb().updateTable('sandbox_codes').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('code', '=', old).execute();
      expect((await token(old)).errcode).toBe(42003);
    });

    it('token errors: 40029 unknown code, 40013 appid, 40125 secret, 41008 missing code', async () => {
      const e = await token('nosuchcode');
      expect(e.errcode).toBe(40029);
      expect(e.errmsg).toMatch(/^invalid code/);
      const code = await codeFor();
      expect((await token(code, { appid: 'wx0000000000000000' })).errcode).toBe(40013);
      expect((await token(code, { secret: 'wrong' })).errcode).toBe(40125);
      expect((await token('', {})).errcode).toBe(41008);
      // None of the refusals consumed the code.
      expect((await token(code)).openid).toBeTruthy();
    });

    it('authorize errors: unknown appid, a redirect_uri outside the configured domain, a bad scope', async () => {
      const bad = [
        [{ appid: 'wx0000000000000000' }, 40013],
        [{ redirect_uri: 'https://evil.example.com/cb' }, 10003],
        [{ scope: 'snsapi_login' }, 10005],
        [{ scope: '' }, 10010],
        [{ state: 'a b' }, 10013],
      ] as const;
      for (const [over, errcode] of bad) {
        const r = await authorize(undefined, over as Record<string, string>);
        expect(r.status).toBe(400);
        expect(await r.text()).toContain(`data-errcode="${errcode}"`);
      }
    });

    it('snsapi_userinfo asks consent first, then redirects with a code', async () => {
      const r = await authorize(undefined, { scope: 'snsapi_userinfo' });
      expect(r.status).toBe(200);
      const page = await r.text();
      expect(page).toContain('data-testid="sandbox-consent"');
      const form = new URLSearchParams({ appid: SBX.appid, redirect_uri: redirect(), response_type: 'code', scope: 'snsapi_userinfo', state: 'abc123', decision: 'allow' });
      const c = await fetch(`${base}/sandbox/open/connect/oauth2/consent`, { method: 'POST', body: form, redirect: 'manual' });
      expect(c.status).toBe(303);
      const code = new URL(c.headers.get('location')!).searchParams.get('code')!;
      expect((await token(code)).scope).toBe('snsapi_userinfo');
      form.set('decision', 'deny');
      const d = await fetch(`${base}/sandbox/open/connect/oauth2/consent`, { method: 'POST', body: form, redirect: 'manual' });
      expect(d.status).toBe(200);
    });

    it('a new simulated user (dashboard form) has another openid; switching back restores the first', async () => {
      const first = (await token(await codeFor())).openid;
      const created = await fetch(`${base}/sandbox/sim/users`, { method: 'POST', body: new URLSearchParams({ action: 'create', name: '小明', subscribe: 'Y' }), redirect: 'manual' });
      expect(created.status).toBe(303);
      const cookie = created.headers.get('set-cookie')!.split(';')[0];
      expect(cookie).toMatch(/^sandbox_user=u_/);
      const second = (await token(await codeFor(cookie))).openid;
      expect(second).not.toBe(first);
      expect((await token(await codeFor(cookie))).openid).toBe(second);
      const sw = await fetch(`${base}/sandbox/sim/users`, { method: 'POST', body: new URLSearchParams({ action: 'switch', id: 'u_default' }), redirect: 'manual', headers: { cookie } });
      const back = sw.headers.get('set-cookie')!.split(';')[0];
      expect((await token(await codeFor(back))).openid).toBe(first);
      const bad = await fetch(`${base}/sandbox/sim/users`, { method: 'POST', body: new URLSearchParams({ action: 'switch', id: 'u_nobody' }), redirect: 'manual' });
      expect(bad.status).toBe(400);
    });
  });

  describe('POST /sandbox/sim/pay', () => {
    async function order(trade: 'JSAPI' | 'NATIVE', openid?: string, signType: SignType = 'MD5') {
      const f = { body: '买家测试', out_trade_no: outTradeNo(), total_fee: '5', spbill_create_ip: '10.0.0.1', notify_url: 'http://127.0.0.1:9/n', trade_type: trade, ...(trade === 'JSAPI' ? { openid } : { product_id: 'p1' }) };
      const r = await wxPost(base, 'unifiedorder', f, { signType });
      expect(r.fields.result_code, r.text).toBe('SUCCESS');
      return { ...f, prepay_id: r.fields.prepay_id, code_url: r.fields.code_url };
    }

    it('refuses bad requests and unknown targets', async () => {
      const post = (b: unknown) => fetch(`${base}/sandbox/sim/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
      expect((await post({})).status).toBe(400);
      expect((await post({ prepay_id: 'a', code_url: 'b' })).status).toBe(400);
      expect((await post({ prepay_id: 'wx123', result: 'MAYBE' })).status).toBe(400);
      expect((await post({ prepay_id: 'wx123' })).status).toBe(404);
      expect((await post({ code_url: 'weixin://wxpay/bizpayurl?pr=nope' })).status).toBe(404);
      expect((await fetch(`${base}/sandbox/sim/pay`, { method: 'POST', body: 'not json' })).status).toBe(400);
    });

    it('CANCEL changes nothing, USERPAYING is still payable, SUCCESS pays once; FAIL is a final PAYERROR', async () => {
      const openid = (await token(await codeFor())).openid;
      const o = await order('JSAPI', openid);
      expect((await sandboxPay(base, { prepay_id: o.prepay_id, result: 'CANCEL' })).json.state).toBe('NOTPAY');
      expect((await wxPost(base, 'orderquery', { out_trade_no: o.out_trade_no })).fields.trade_state).toBe('NOTPAY');
      // PAYERROR is final (test/integration/wx-payerror.test.ts): another order fails, and stays failed.
      const failed = await order('JSAPI', openid);
      expect((await sandboxPay(base, { prepay_id: failed.prepay_id, result: 'FAIL' })).json.state).toBe('PAYERROR');
      expect((await sandboxPay(base, { prepay_id: failed.prepay_id })).json.code).toBe('PAYERROR');
      expect((await sandboxPay(base, { prepay_id: o.prepay_id, result: 'USERPAYING' })).json.state).toBe('USERPAYING');
      const [a, b] = await Promise.all([sandboxPay(base, { prepay_id: o.prepay_id }), sandboxPay(base, { prepay_id: o.prepay_id })]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const again = await sandboxPay(base, { prepay_id: o.prepay_id });
      expect(again.status).toBe(409);
      expect(again.json.code).toBe('ORDERPAID');
    });

    it('a JSAPI order is paid by its own openid only; an expired prepay_id cannot be paid', async () => {
      const openid = (await token(await codeFor())).openid;
      const o = await order('JSAPI', openid);
      const other = await sandboxPay(base, { prepay_id: o.prepay_id, openid: 'oSomebodyElseSomebodyElseSom' });
      expect(other.status).toBe(409);
      await sdb().updateTable('sandbox_orders').set({ prepay_expires_at: new Date(Date.now() - 1000).toISOString() }).where('out_trade_no', '=', o.out_trade_no).execute();
      const late = await sandboxPay(base, { prepay_id: o.prepay_id });
      expect(late.status).toBe(409);
      expect(late.json.code).toBe('PREPAY_EXPIRED');
      // Re-submitting the same order after expiry gives a fresh prepay_id (the old one stays dead).
      const { prepay_id: _old, code_url: _c, ...fields } = o;
      const again = await wxPost(base, 'unifiedorder', fields);
      expect(again.fields.prepay_id).not.toBe(o.prepay_id);
      expect((await sandboxPay(base, { prepay_id: again.fields.prepay_id })).status).toBe(200);
    });

    it('a NATIVE order is paid by whoever scans (openid), default user otherwise; unknown openids refused', async () => {
      const created = await fetch(`${base}/sandbox/sim/users`, { method: 'POST', body: new URLSearchParams({ action: 'create', name: '扫码人', subscribe: 'Y' }), redirect: 'manual' });
      const cookie = created.headers.get('set-cookie')!.split(';')[0];
      const scanner = (await token(await codeFor(cookie))).openid;
      const o = await order('NATIVE');
      expect((await sandboxPay(base, { code_url: o.code_url, openid: 'oNotAUserNotAUserNotAUserNot' })).status).toBe(400);
      expect((await sandboxPay(base, { code_url: o.code_url, openid: scanner })).status).toBe(200);
      const q = await wxPost(base, 'orderquery', { out_trade_no: o.out_trade_no });
      expect(q.fields).toMatchObject({ openid: scanner, is_subscribe: 'Y', trade_type: 'NATIVE' });
      const d = await order('NATIVE');
      await sandboxPay(base, { code_url: d.code_url });
      expect((await wxPost(base, 'orderquery', { out_trade_no: d.out_trade_no })).fields.openid).toBe((await token(await codeFor())).openid);
    });

    it('the JSAPI check behind bridge.js: names, appId, signType, paySign, owner, liveness', async () => {
      const openid = (await token(await codeFor())).openid;
      const o = await order('JSAPI', openid, 'HMAC-SHA256');
      const params = (signType: SignType = 'HMAC-SHA256') => {
        const p: Record<string, string> = { appId: SBX.appid, timeStamp: String(Math.floor(Date.now() / 1000)), nonceStr: 'n0nce', package: `prepay_id=${o.prepay_id}`, signType };
        p.paySign = sign(p, SBX.apiKey, signType);
        return p;
      };
      // bridge.js sends the page's URL; the default payment directories are the shop's and the session pages'.
      const page = { 'x-sandbox-page-url': `${base}/pay/cs_x`, 'x-sandbox-landing-url': `${base}/pay/cs_x` };
      const check = async (body: unknown, cookie?: string, from: Record<string, string> = page) => {
        const r = await fetch(`${base}/sandbox/sim/jsapi/check`, { method: 'POST', headers: { 'content-type': 'application/json', ...from, ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });
        expect(r.status).toBe(200);
        return (await r.json()) as { ok: boolean; reason?: string; order?: Record<string, unknown> };
      };
      const good = await check(params());
      expect(good).toMatchObject({ ok: true, order: { amount: '0.05', total_fee: 5, body: '买家测试' } });
      const { appId, ...rest } = params();
      const lower = await check({ ...rest, appid: appId });
      expect(lower.ok).toBe(false);
      expect(lower.reason).toMatch(/appId/);
      const md5 = await check(params('MD5'));
      expect(md5.ok).toBe(false);
      expect(md5.reason).toMatch(/signType/);
      const badSign = await check({ ...params(), paySign: 'ABCDEF' });
      expect(badSign.reason).toMatch(/paySign/);
      const wrongApp: Record<string, string> = { ...params(), appId: 'wx0000000000000000' };
      wrongApp.paySign = sign({ ...wrongApp, paySign: undefined }, SBX.apiKey, 'HMAC-SHA256');
      expect((await check(wrongApp)).reason).toMatch(/appId/);
      const created = await fetch(`${base}/sandbox/sim/users`, { method: 'POST', body: new URLSearchParams({ action: 'create', name: '别人' }), redirect: 'manual' });
      const otherCookie = created.headers.get('set-cookie')!.split(';')[0];
      expect((await check(params(), otherCookie)).reason).toMatch(/另一个微信用户/);
      // No page URL at all (not from a page), or a page outside the directories: WeChat's 当前页面的URL未注册.
      expect((await check(params(), undefined, {})).reason).toMatch(/^当前页面的URL未注册/);
      expect((await check(params(), undefined, { 'x-sandbox-page-url': `${base}/merchant/orders` })).reason).toMatch(/^当前页面的URL未注册/);
      // The Referer stands in for the header (a page's own fetch carries it).
      expect(await check(params(), undefined, { referer: `${base}/shop/green-tea` })).toMatchObject({ ok: true });
      const pay = await fetch(`${base}/sandbox/sim/jsapi/pay`, { method: 'POST', headers: { 'content-type': 'application/json', ...page }, body: JSON.stringify(params()) });
      expect(pay.status).toBe(200);
      expect((await check(params())).reason).toMatch(/已支付/);
    });
  });
});
