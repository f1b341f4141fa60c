import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WechatPayApiError } from '@/lib/wechatpay/errors';
import { decryptResource, jsapiParamsV3, loadPublicKey, parseV3Notify, signRequest, StaticKeys, WechatPayV3Client } from '@/lib/wechatpay/v3';
import { type AppServer, startApp } from '../helpers/server';
import { defaultOpenid, notifyReceiver, outTradeNo, sandboxPay, setFaults, waitFor } from '../helpers/sandbox';

/**
 * The sandbox speaks WeChat Pay API v3 under /sandbox/mch/v3 with the real paths: a plain-Node script
 * with only the keys from /sandbox/sim/keys places, queries and closes an order and verifies every
 * answer; the app's own v3 client (written from the protocol facts, docs/wechatpay-v3.md) then drives
 * every call, error, notify and both signing modes.
 */
describe('sandbox v3', () => {
  let app: AppServer;
  let keys: Record<string, string>;
  let client: WechatPayV3Client;
  beforeAll(async () => {
    // Today's bill at once (WeChat's is made by 10:00 the next morning: test/integration/wx-bills.test.ts).
    app = await startApp({ env: { SANDBOX_BILL_READY_HOUR: '0' } });
    keys = await (await fetch(`${app.baseUrl}/sandbox/sim/keys`)).json();
    client = new WechatPayV3Client({
      appId: keys.appid, mchid: keys.mchid, serialNo: keys.serial_no, privateKey: keys.private_key_pem, apiV3Key: keys.apiv3_key,
      baseUrl: `${app.baseUrl}/sandbox/mch`, publicKey: { id: keys.wechatpay_public_key_id, pem: keys.wechatpay_public_key_pem }, retryDelayMs: 5, maxRetries: 0,
    });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('a raw-HTTP script with the keys from /sandbox/sim/keys places, queries and closes an order, verifying every answer', async () => {
    expect(keys).toMatchObject({ mchid: '10000100', wechatpay_public_key_id: expect.stringMatching(/^PUB_KEY_ID_/), apiv3_key: expect.stringMatching(/^.{32}$/) });
    const { stdout } = await promisify(execFile)(process.execPath, [path.resolve(__dirname, '../../scripts/sandbox-v3-smoke.mjs'), app.baseUrl]);
    expect(stdout).toMatch(/POST \/v3\/pay\/transactions\/native -> 200 .*signature verified/);
    expect(stdout).toMatch(/close -> 204 {2}\(signature verified\)/);
    expect(stdout).toMatch(/^OK SMOKE/m);
  });

  it('a bad merchant signature is 401 SIGN_ERROR with WeChat detail shape, and shows in the signature debugger', async () => {
    const url = '/sandbox/mch/v3/pay/transactions/native';
    const body = JSON.stringify({ appid: keys.appid, mchid: keys.mchid, description: 'x', out_trade_no: outTradeNo('S'), notify_url: 'https://a.example/n', amount: { total: 1 } });
    const { authorization } = signRequest({ method: 'POST', url, body: `${body} `, mchid: keys.mchid, serialNo: keys.serial_no, privateKey: keys.private_key_pem });
    const r = await fetch(app.baseUrl + url, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body });
    expect(r.status).toBe(401);
    const j = await r.json();
    // WeChat's SIGN_ERROR detail: detail.issue, field, location, sign_information with a truncated message
    // as SDK users report WeChat's 401 (docs/wechatpay-v3.md §1; the exact field set is UNVERIFIED against WeChat's own pages).
    expect(j).toMatchObject({ code: 'SIGN_ERROR', message: '签名错误,请检查后再试', detail: { detail: { issue: 'sign not match' }, field: 'signature', location: 'authorization', sign_information: { method: 'POST', url } } });
    expect(j.detail.sign_information.truncated_sign_message).toMatch(/^POST\n\/sandbox\/mch\/v3\/pay\/transactions\/native\n\d+\n/);
    expect(r.headers.get('wechatpay-signature')).toBeTruthy();
    const reqs = await (await fetch(`${app.baseUrl}/sandbox/sim/requests`)).json();
    expect(reqs.requests[0]).toMatchObject({ api: 'v3 /v3/pay/transactions/native', reason: '签名错误,请检查后再试' });
  });

  it("v3's errors: PARAM_ERROR with the field, ORDER_NOT_EXIST, ORDER_CLOSED, ORDERPAID, NOT_ENOUGH, FREQUENCY_LIMITED", async () => {
    const order = { description: '错误', notify_url: 'https://a.example/n', amount: { total: 300 } };
    const bad = JSON.stringify({ appid: keys.appid, mchid: keys.mchid, ...order, out_trade_no: outTradeNo('P'), amount: { total: 0 } });
    const url = '/sandbox/mch/v3/pay/transactions/native';
    const { authorization } = signRequest({ method: 'POST', url, body: bad, mchid: keys.mchid, serialNo: keys.serial_no, privateKey: keys.private_key_pem });
    const raw = await fetch(app.baseUrl + url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: bad });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/amount/total', location: 'body' } });
    await expect(client.queryByOutTradeNo(outTradeNo('N'))).rejects.toMatchObject({ code: 'ORDER_NOT_EXIST', statusCode: 404 });

    const closedNo = outTradeNo('C');
    await client.native({ ...order, out_trade_no: closedNo });
    await client.close(closedNo);
    await expect(client.close(closedNo)).rejects.toMatchObject({ code: 'ORDER_CLOSED' });
    await expect(client.native({ ...order, out_trade_no: closedNo })).rejects.toMatchObject({ code: 'ORDER_CLOSED' });

    const paidNo = outTradeNo('D');
    const { code_url } = await client.native({ ...order, out_trade_no: paidNo });
    expect((await sandboxPay(app.baseUrl, { code_url })).status).toBe(200);
    await expect(client.close(paidNo)).rejects.toMatchObject({ code: 'ORDERPAID' });
    await expect(client.refund({ out_trade_no: paidNo, out_refund_no: `${paidNo}R1`, amount: { refund: 200, total: 300, currency: 'CNY' } })).resolves.toMatchObject({ status: 'PROCESSING' });
    const notEnough = await client.refund({ out_trade_no: paidNo, out_refund_no: `${paidNo}R2`, amount: { refund: 200, total: 300, currency: 'CNY' } }).catch((e) => e);
    expect(notEnough).toBeInstanceOf(WechatPayApiError);
    expect(notEnough).toMatchObject({ code: 'NOT_ENOUGH', statusCode: 403 });

    await setFaults(app.baseUrl, { api: 'orderquery', fault: 'FREQUENCY_LIMITED', count: 1 });
    await expect(client.queryByOutTradeNo(paidNo)).rejects.toMatchObject({ code: 'FREQUENCY_LIMITED', statusCode: 429 });
    await expect(client.queryByOutTradeNo(paidNo)).resolves.toMatchObject({ trade_state: 'REFUND', amount: { total: 300 } });
  });

  it('notifies are encrypted and signed as WeChat does, re-signed on every retry until 200/204; refund notify REFUND.SUCCESS', async () => {
    const rx = await notifyReceiver((n) => (n === 0 ? { status: 500, body: '{"code":"FAIL","message":"busy"}' } : { status: 204, body: '' }));
    try {
      const no = outTradeNo('J');
      const openid = await defaultOpenid(app.baseUrl);
      const { prepay_id } = await client.jsapi({ description: '通知', out_trade_no: no, notify_url: rx.url, amount: { total: 500 }, payer: { openid } });
      // The bridge's check: paySign with signType RSA verifies with the merchant's public key, a wrong one does not.
      const params = jsapiParamsV3({ appId: keys.appid, prepayId: prepay_id, privateKey: keys.private_key_pem });
      const check = async (p: unknown) => (await fetch(`${app.baseUrl}/sandbox/sim/jsapi/check`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-sandbox-page-url': `${app.baseUrl}/shop/green-tea` }, body: JSON.stringify(p) })).json();
      expect(await check(params)).toMatchObject({ ok: true });
      expect(await check({ ...params, timeStamp: String(Number(params.timeStamp) + 1) })).toMatchObject({ ok: false, reason: 'paySign 签名错误' });
      expect((await fetch(`${app.baseUrl}/sandbox/sim/jsapi/pay`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-sandbox-page-url': `${app.baseUrl}/shop/green-tea` }, body: JSON.stringify(params) })).status).toBe(200);

      await waitFor(async () => rx.received.length >= 2);
      const keySet = new StaticKeys([[keys.wechatpay_public_key_id, loadPublicKey(keys.wechatpay_public_key_pem)]]);
      for (const r of rx.received.slice(0, 2)) {
        const h = (n: string) => r.headers[n] as string | undefined;
        const n = await parseV3Notify({ timestamp: h('wechatpay-timestamp'), nonce: h('wechatpay-nonce'), signature: h('wechatpay-signature'), serial: h('wechatpay-serial') }, r.body, { keys: keySet, apiV3Key: keys.apiv3_key });
        expect(n.envelope).toMatchObject({ event_type: 'TRANSACTION.SUCCESS', resource_type: 'encrypt-resource', resource: { algorithm: 'AEAD_AES_256_GCM', associated_data: 'transaction' } });
        expect(n.resource).toMatchObject({ out_trade_no: no, mchid: keys.mchid, appid: keys.appid, trade_state: 'SUCCESS', trade_type: 'JSAPI', payer: { openid }, amount: { total: 500, currency: 'CNY' } });
      }
      expect(rx.received[0].body).toBe(rx.received[1].body);
      expect(rx.received[0].headers['wechatpay-nonce']).not.toBe(rx.received[1].headers['wechatpay-nonce']);
      // The sandbox records the delivery once it has read the answer, a moment after the receiver saw it.
      const delivery = async () => (await (await fetch(`${app.baseUrl}/sandbox/sim/orders`)).json()).orders.find((o: { out_trade_no: string }) => o.out_trade_no === no).deliveries[0];
      await waitFor(async () => (await delivery()).status !== 'pending');
      expect(await delivery()).toMatchObject({ status: 'delivered', attempts: 2 });

      await client.refund({ out_trade_no: no, out_refund_no: `${no}R`, notify_url: rx.url, amount: { refund: 500, total: 500, currency: 'CNY' } });
      await waitFor(async () => rx.received.length >= 3);
      const env = JSON.parse(rx.received[2].body);
      expect(env.event_type).toBe('REFUND.SUCCESS');
      expect(JSON.parse(decryptResource(env.resource, keys.apiv3_key))).toMatchObject({ out_refund_no: `${no}R`, refund_status: 'SUCCESS', amount: { refund: 500, total: 500 } });
      await expect(client.refundQuery(`${no}R`)).resolves.toMatchObject({ status: 'SUCCESS' });
    } finally {
      await rx.close();
    }
  });

  it('platform-certificate signing on request: /v3/certificates serves it, and a certificate-mode client verifies; the trade bill matches its SHA1', async () => {
    const sw = await fetch(`${app.baseUrl}/sandbox/sim/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"signer":"platform_certificate"}' });
    expect(sw.status).toBe(200);
    try {
      const certClient = new WechatPayV3Client({
        appId: keys.appid, mchid: keys.mchid, serialNo: keys.serial_no, privateKey: keys.private_key_pem, apiV3Key: keys.apiv3_key,
        baseUrl: `${app.baseUrl}/sandbox/mch`, platformCertificates: true, maxRetries: 0,
      });
      const no = outTradeNo('Q');
      await expect(certClient.native({ description: '证书', out_trade_no: no, notify_url: 'https://a.example/n', amount: { total: 1 } })).resolves.toMatchObject({ code_url: expect.stringMatching(/^weixin:/) });
      expect(certClient.keys.serials()).toEqual([keys.platform_certificate_serial_no]);
      // The public-key-only client refuses what the platform certificate signed: another serial.
      await expect(client.queryByOutTradeNo(no)).rejects.toMatchObject({ code: 'UNKNOWN_SERIAL' });
    } finally {
      await fetch(`${app.baseUrl}/sandbox/sim/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"signer":"public_key"}' });
    }
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    const link = await client.tradeBill(today);
    expect(link.download_url.startsWith(`${app.baseUrl}/sandbox/mch/v3/billdownload/file?token=`)).toBe(true);
    const file = (await client.downloadBill(link)).toString('utf8');
    expect(file).toMatch(/^交易时间,公众账号ID/);
    await expect(client.downloadBill({ ...link, hash_value: '0'.repeat(40) })).rejects.toMatchObject({ code: 'BILL_HASH_MISMATCH' });
  });

  it('npm run doctor -- --live: one signed v3 call proves the keys fit; another merchant key gets SIGN_ERROR', () => {
    const root = path.resolve(__dirname, '../..');
    const doctor = (databaseUrl: string) => spawnSync(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/doctor.ts', '--live'], {
      cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH, NODE_ENV: 'production', WECHATPAY_API_VERSION: 'v3', PORT: String(app.port), DATABASE_URL: databaseUrl },
    });
    const ok = doctor(app.databaseUrl);
    expect(ok.stdout).toContain('WeChat Pay API: v3');
    expect(ok.stdout).toContain(`verifying answers and notifies with: public key ${keys.wechatpay_public_key_id}`);
    expect(ok.stdout).toContain('live: signed test call accepted by WeChat Pay and its answer verified');
    expect(ok.status).toBe(0);
    // Another data dir: another (generated) merchant key and serial, which this sandbox does not know.
    const other = doctor(`file:${path.join(mkdtempSync(path.join(os.tmpdir(), 'wxv3doc-')), 'c.db')}`);
    expect(other.stdout).toMatch(/live: NOT OK: SIGN_ERROR/);
    expect(other.status).toBe(1);
  });
});
