import { execFile } from 'node:child_process';
import { createDecipheriv, createVerify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '@/lib/wechatpay/sign';
import { SBX, wxPost } from '../helpers/sandbox';
import { merchantsFile, type StandaloneSandbox, standaloneRefusal, startStandalone } from '../helpers/standalone';

const run = promisify(execFile);
const scripts = path.resolve(__dirname, '../../scripts');

/** Two merchants that are not the checkout's (WeChat's documentation example identities). */
const SHOP_A = { mch_id: '1900000109', appid: 'wx2421b1c4370ec43b', api_key: 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6', sign_type: 'HMAC-SHA256', app_secret: 'shopAsecret0123456789abcdef012345', oauth_domain: 'shop-a.test' };
const SHOP_B = { mch_id: '1230000109', appid: 'wxd678efh567hg6787', api_key: '0123456789abcdef0123456789ABCDEF', name: 'Shop B' };

/**
 * The sandbox on its own (`npm run sandbox` = scripts/sandbox-server.mjs with SANDBOX_ONLY=1): only
 * the simulator, on its own port and database, serving merchants from SANDBOX_MERCHANTS_FILE and the
 * JSON API, each answered with its own keys. The merchant-facing checks run over raw HTTP with plain
 * Node scripts (scripts/sandbox-v2-smoke.mjs, sandbox-v3-smoke.mjs) and bash + curl
 * (scripts/sandbox-curl.sh), none importing this repository.
 */
describe('the sandbox on its own', () => {
  let sbx: StandaloneSandbox;
  beforeAll(async () => {
    const { dir, file } = merchantsFile({ merchants: [SHOP_A, SHOP_B] });
    sbx = await startStandalone({ dataDir: dir, env: { SANDBOX_MERCHANTS_FILE: file, SANDBOX_CLOSE_MIN_AGE_S: '0' } });
  });
  afterAll(async () => sbx?.stop());

  it('serves only the simulator: every checkout route is a 404, / leads to the dashboard', async () => {
    for (const p of ['/shop/green-tea', '/merchant/login', '/merchant/orders', '/orders/abc', '/api/health', '/api/v1/checkout/sessions', '/api/merchant/orders', '/api/v1/openapi.json', '/pay/cs_123']) {
      const r = await fetch(`${sbx.baseUrl}${p}`, { redirect: 'manual' });
      expect(r.status, p).toBe(404);
    }
    const notify = await fetch(`${sbx.baseUrl}/api/wechatpay/notify`, { method: 'POST', body: '<xml/>' });
    expect(notify.status).toBe(404);
    const home = await fetch(`${sbx.baseUrl}/`, { redirect: 'manual' });
    expect(home.status).toBe(302);
    expect(home.headers.get('location')).toBe('/sandbox');
    const dash = await (await fetch(`${sbx.baseUrl}/sandbox`)).text();
    expect(dash).toContain('data-testid="sandbox-dashboard"');
    expect(dash).toContain(`data-mch-id="${SHOP_A.mch_id}"`);
    expect(dash).toContain(`data-mch-id="${SHOP_B.mch_id}"`);
  });

  it('keeps its own database: only sandbox_* tables, none of the checkout', () => {
    const db = new Database(sbx.databaseUrl.slice('file:'.length), { readonly: true });
    const tables = (db.prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>).map((t) => t.name);
    db.close();
    expect(tables).toContain('sandbox_orders');
    expect(tables).toContain('sandbox_merchants');
    expect(tables.filter((t) => !t.startsWith('sandbox_'))).toEqual([]);
  });

  it('lists the file merchants beside the default one, with their keys', async () => {
    const { merchants } = await (await fetch(`${sbx.baseUrl}/sandbox/sim/merchants`)).json();
    const ids = merchants.map((m: { mch_id: string }) => m.mch_id);
    expect(ids[0]).toBe(SBX.mchId);
    expect(ids.slice(1).sort()).toEqual([SHOP_A.mch_id, SHOP_B.mch_id].sort());
    const a = merchants.find((m: { mch_id: string }) => m.mch_id === SHOP_A.mch_id);
    expect(a).toMatchObject({ appid: SHOP_A.appid, api_key: SHOP_A.api_key, sign_type: 'HMAC-SHA256', source: 'file', oauth_domain: 'shop-a.test' });
    const b = merchants.find((m: { mch_id: string }) => m.mch_id === SHOP_B.mch_id);
    expect(b).toMatchObject({ sign_type: 'MD5', source: 'file', name: 'Shop B' });
    expect(b.app_secret).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a merchant that is not the app\'s signs, orders, pays and receives a signed notify (raw HTTP, HMAC-SHA256)', async () => {
    const { stdout } = await run(process.execPath, [path.join(scripts, 'sandbox-v2-smoke.mjs'), sbx.baseUrl, SHOP_A.mch_id, SHOP_A.appid, SHOP_A.api_key, 'HMAC-SHA256']);
    expect(stdout).toContain('unifiedorder -> ');
    expect(stdout).toMatch(/notify -> \S+ 4200\d{24} total_fee=1 \(sign verified, acknowledged\)/);
    expect(stdout).toContain(`OK merchant ${SHOP_A.mch_id}: signed, ordered, paid, notified`);
    const { orders } = await (await fetch(`${sbx.baseUrl}/sandbox/sim/orders?mch_id=${SHOP_A.mch_id}`)).json();
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ mch_id: SHOP_A.mch_id, appid: SHOP_A.appid, state: 'SUCCESS', sign_type: 'HMAC-SHA256' });
    expect(orders[0].deliveries[0]).toMatchObject({ kind: 'pay', status: 'delivered' });
  });

  it('answers at WeChat\'s own paths too, so an SDK needs only its host changed (curl recipe, MD5)', async () => {
    const { stdout } = await run('bash', [path.join(scripts, 'sandbox-curl.sh'), sbx.baseUrl, SHOP_B.mch_id, SHOP_B.appid, SHOP_B.api_key]);
    const code = /<code_url><!\[CDATA\[(weixin:\/\/[^\]]+)\]\]><\/code_url>/.exec(stdout);
    expect(code, stdout).not.toBeNull();
    const paid = await fetch(`${sbx.baseUrl}/sandbox/sim/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code_url: code![1] }) });
    expect(await paid.json()).toMatchObject({ ok: true, state: 'SUCCESS' });
    const viaAlias = await run(process.execPath, [path.join(scripts, 'sandbox-v2-smoke.mjs'), sbx.baseUrl, SHOP_B.mch_id, SHOP_B.appid, SHOP_B.api_key], { env: { ...process.env, MCH_BASE_URL: sbx.baseUrl } });
    expect(viaAlias.stdout).toContain(`OK merchant ${SHOP_B.mch_id}`);
  });

  it('answers each call for the merchant its mch_id names: another merchant\'s key is 签名错误, an unknown mch_id MCHID_NOT_EXIST, another\'s appid APPID_MCHID_NOT_MATCH', async () => {
    const native = { body: 'x', out_trade_no: `T${Date.now()}`, total_fee: '1', spbill_create_ip: '127.0.0.1', notify_url: 'http://127.0.0.1:9/n', trade_type: 'NATIVE', product_id: 'p' };
    // Signed with the default merchant's key while naming shop B: WeChat checks with shop B's key.
    const wrongKey = await wxPost(sbx.baseUrl, 'unifiedorder', { ...native, mch_id: SHOP_B.mch_id, appid: SHOP_B.appid });
    expect(wrongKey.fields).toMatchObject({ return_code: 'FAIL', return_msg: '签名错误' });
    // The unifiedorder error list (pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1): "MCHID_NOT_EXIST 商户号不存在 请检查MCHID是否正确",
    // "APPID_MCHID_NOT_MATCH appid和mch_id不匹配 请确认appid和mch_id是否匹配".
    const unknown = await wxPost(sbx.baseUrl, 'unifiedorder', { ...native, mch_id: '1999999999' });
    expect(unknown.fields).toMatchObject({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'MCHID_NOT_EXIST' });
    const mismatch = await wxPost(sbx.baseUrl, 'unifiedorder', { ...native, mch_id: SHOP_B.mch_id, appid: SHOP_A.appid }, { key: SHOP_B.api_key });
    expect(mismatch.fields).toMatchObject({ result_code: 'FAIL', err_code: 'APPID_MCHID_NOT_MATCH' });
    expect(mismatch.fields.sign).toBe(sign(mismatch.fields, SHOP_B.api_key, 'MD5'));
    const ok = await wxPost(sbx.baseUrl, 'unifiedorder', { ...native, mch_id: SHOP_B.mch_id, appid: SHOP_B.appid }, { key: SHOP_B.api_key });
    expect(ok.fields).toMatchObject({ result_code: 'SUCCESS', mch_id: SHOP_B.mch_id, appid: SHOP_B.appid });
    expect(ok.fields.sign).toBe(sign(ok.fields, SHOP_B.api_key, 'MD5'));
    // Order numbers are the merchant's own: the same out_trade_no at another merchant is another order.
    const other = await wxPost(sbx.baseUrl, 'unifiedorder', { ...native, mch_id: SHOP_A.mch_id, appid: SHOP_A.appid, total_fee: '2' }, { key: SHOP_A.api_key, signType: 'HMAC-SHA256' });
    expect(other.fields.result_code, other.text).toBe('SUCCESS');
    const { requests } = await (await fetch(`${sbx.baseUrl}/sandbox/sim/requests`)).json();
    expect(requests.some((r: { reason: string }) => r.reason === 'MCHID_NOT_EXIST 商户号不存在')).toBe(true);
  });

  it('creates merchants from JSON: 201 with generated keys, 409 for a taken mch_id or appid, 400 naming a bad field and storing nothing', async () => {
    const post = (body: unknown) => fetch(`${sbx.baseUrl}/sandbox/sim/merchants`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = await post({ name: 'Script shop' });
    expect(created.status).toBe(201);
    const { merchant } = await created.json();
    expect(merchant).toMatchObject({ source: 'api', sign_type: 'MD5', name: 'Script shop' });
    expect(merchant.mch_id).toMatch(/^19\d{8}$/);
    expect(merchant.appid).toMatch(/^wx[0-9a-f]{16}$/);
    expect(Buffer.byteLength(merchant.api_key)).toBe(32);
    expect((await post({ mch_id: merchant.mch_id })).status).toBe(409);
    expect((await post({ appid: SHOP_A.appid })).status).toBe(409);
    expect((await post({ mch_id: SBX.mchId })).status).toBe(409);
    const bad = await post({ mch_id: '1777777777', api_key: 'short' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/api_key must be exactly 32 bytes/);
    expect((await post({ mch_id: '1777777777', colour: 'red' })).status).toBe(400);
    const { merchants } = await (await fetch(`${sbx.baseUrl}/sandbox/sim/merchants`)).json();
    expect(merchants.some((m: { mch_id: string }) => m.mch_id === '1777777777')).toBe(false);
    // The new merchant works at once, with its generated key.
    const { stdout } = await run(process.execPath, [path.join(scripts, 'sandbox-v2-smoke.mjs'), sbx.baseUrl, merchant.mch_id, merchant.appid, merchant.api_key]);
    expect(stdout).toContain(`OK merchant ${merchant.mch_id}`);
  });

  it('API v3 per merchant: its own keys (generated on first use), the v3 smoke client as that merchant, notifies signed and encrypted with its keys', async () => {
    const keysA = await (await fetch(`${sbx.baseUrl}/sandbox/sim/keys?mch_id=${SHOP_A.mch_id}`)).json();
    const keysDefault = await (await fetch(`${sbx.baseUrl}/sandbox/sim/keys`)).json();
    expect(keysA).toMatchObject({ mchid: SHOP_A.mch_id, appid: SHOP_A.appid });
    expect(keysA.serial_no).not.toBe(keysDefault.serial_no);
    expect(keysA.apiv3_key).not.toBe(keysDefault.apiv3_key);
    expect(keysA.wechatpay_public_key_id).toContain(SHOP_A.mch_id);
    expect(keysA.merchant_certificate_pem).toContain('BEGIN CERTIFICATE');
    expect((await fetch(`${sbx.baseUrl}/sandbox/sim/keys?mch_id=1999999999`)).status).toBe(404);
    // Asked again, the same keys: generated once and kept.
    expect((await (await fetch(`${sbx.baseUrl}/sandbox/sim/keys?mch_id=${SHOP_A.mch_id}`)).json()).serial_no).toBe(keysA.serial_no);
    const smoke = await run(process.execPath, [path.join(scripts, 'sandbox-v3-smoke.mjs'), sbx.baseUrl, SHOP_A.mch_id]);
    expect(smoke.stdout).toContain('(signature verified)');
    expect(smoke.stdout).toContain('OK ');

    // A v3 payment notify for shop A: signed with shop A's WeChat Pay key, resource under shop A's APIv3 key
    // (pay.weixin.qq.com/doc/v3/merchant/4012791861: "使用APIv3密钥... AEAD_AES_256_GCM"; the signature as for answers).
    const got: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
    const listener: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    try {
      const notifyUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/v3-notify`;
      const outTradeNo = `V3A${Date.now()}`;
      const body = JSON.stringify({ appid: SHOP_A.appid, mchid: SHOP_A.mch_id, description: 'v3', out_trade_no: outTradeNo, notify_url: notifyUrl, amount: { total: 3, currency: 'CNY' } });
      const placed = await v3Call(sbx.baseUrl, keysA, 'POST', '/v3/pay/transactions/native', body);
      expect(placed.status, placed.text).toBe(200);
      const paid = await fetch(`${sbx.baseUrl}/sandbox/sim/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code_url: JSON.parse(placed.text).code_url }) });
      expect(paid.status).toBe(200);
      await expect.poll(() => got.length, { timeout: 15_000 }).toBeGreaterThan(0);
      const n = got[0];
      expect(n.headers['wechatpay-serial']).toBe(keysA.wechatpay_public_key_id);
      const message = `${n.headers['wechatpay-timestamp']}\n${n.headers['wechatpay-nonce']}\n${n.body}\n`;
      expect(createVerify('RSA-SHA256').update(message).verify(keysA.wechatpay_public_key_pem, String(n.headers['wechatpay-signature']), 'base64')).toBe(true);
      const r = JSON.parse(n.body).resource;
      const buf = Buffer.from(r.ciphertext, 'base64');
      const d = createDecipheriv('aes-256-gcm', Buffer.from(keysA.apiv3_key), Buffer.from(r.nonce));
      d.setAAD(Buffer.from(r.associated_data));
      d.setAuthTag(buf.subarray(buf.length - 16));
      const tx = JSON.parse(Buffer.concat([d.update(buf.subarray(0, buf.length - 16)), d.final()]).toString('utf8'));
      expect(tx).toMatchObject({ mchid: SHOP_A.mch_id, appid: SHOP_A.appid, out_trade_no: outTradeNo, trade_state: 'SUCCESS', amount: { total: 3 } });
    } finally {
      listener.close();
    }
    // Shop A's keys do not pass for shop B.
    const asB = await v3Call(sbx.baseUrl, { ...keysA, mchid: SHOP_B.mch_id }, 'GET', `/v3/pay/transactions/out-trade-no/X123456?mchid=${SHOP_B.mch_id}`, '');
    expect(asB.status).toBe(401);
  });

  it('OAuth per appid: the merchant\'s web-auth domain and AppSecret', async () => {
    const authorize = (appid: string, redirect: string) =>
      fetch(`${sbx.baseUrl}/connect/oauth2/authorize?appid=${appid}&redirect_uri=${encodeURIComponent(redirect)}&response_type=code&scope=snsapi_base&state=s1#wechat_redirect`, { redirect: 'manual' });
    const ok = await authorize(SHOP_A.appid, 'https://shop-a.test/wx/callback');
    expect(ok.status).toBe(302);
    const code = new URL(ok.headers.get('location')!).searchParams.get('code')!;
    expect(ok.headers.get('location')).toMatch(/^https:\/\/shop-a\.test\/wx\/callback\?code=/);
    // WeChat: "redirect_uri域名与后台配置不一致，错误码10003" (developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html).
    const elsewhere = await authorize(SHOP_A.appid, 'https://evil.test/cb');
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.text()).toContain('10003');
    const token = (secret: string) => fetch(`${sbx.baseUrl}/sns/oauth2/access_token?appid=${SHOP_A.appid}&secret=${secret}&code=${code}&grant_type=authorization_code`).then((r) => r.json());
    expect(await token(SBX.secret)).toMatchObject({ errcode: 40125 });
    const t = await token(SHOP_A.app_secret);
    expect(t.openid).toMatch(/^o[\w-]{27}$/);
  });
});

describe('the sandbox on its own refuses a bad merchants file', () => {
  it('names each bad entry and does not start', async () => {
    const { dir, file } = merchantsFile([{ ...SHOP_B, api_key: 'too-short' }, { ...SHOP_B, mch_id: '1888888888' }, { appid: SHOP_A.appid }]);
    const r = await standaloneRefusal({ dataDir: dir, env: { SANDBOX_MERCHANTS_FILE: file } });
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('merchant #1: api_key must be exactly 32 bytes');
    expect(r.output).toContain('merchant #3: mch_id is missing');
  });
});

type V3Keys = { mchid: string; serial_no: string; private_key_pem: string };

/** One v3 call signed by hand with the merchant's key (plain node:crypto), at WeChat's own path. */
async function v3Call(origin: string, keys: V3Keys, method: string, url: string, body: string): Promise<{ status: number; text: string }> {
  const { createSign, randomBytes } = await import('node:crypto');
  const ts = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(16).toString('hex');
  const signature = createSign('RSA-SHA256').update(`${method}\n${url}\n${ts}\n${nonce}\n${body}\n`).sign(keys.private_key_pem, 'base64');
  const auth = `WECHATPAY2-SHA256-RSA2048 mchid="${keys.mchid}",nonce_str="${nonce}",signature="${signature}",timestamp="${ts}",serial_no="${keys.serial_no}"`;
  const r = await fetch(`${origin}${url}`, { method, headers: { authorization: auth, accept: 'application/json', 'content-type': 'application/json' }, body: method === 'GET' ? undefined : body });
  return { status: r.status, text: await r.text() };
}
