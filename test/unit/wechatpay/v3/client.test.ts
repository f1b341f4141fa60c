import { createHash, createVerify, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WechatPayApiError, WechatPayError, WechatPaySignatureError } from '../../../../lib/wechatpay/errors';
import { encryptResource, loadPrivateKey, loadPublicKey, parseAuthorization, requestMessage, WechatPayV3ApiError, WechatPayV3Client, type WechatPayV3ClientOptions } from '../../../../lib/wechatpay/v3';
import { selfSignedCertificate } from '../../../../lib/sandbox/v3/cert';
import { startScriptedV3, type ScriptedV3Answer, type SeenV3 } from '../../../helpers/v3-wechat';

const dir = path.join(__dirname, '../../../fixtures/wechatpay-v3');
const pem = (f: string) => readFileSync(path.join(dir, f), 'utf8');
const merchantKey = loadPrivateKey(pem('merchant_private_key.pem'));
const merchantPub = loadPublicKey(pem('merchant_public_key.pem'));
const wxKey = loadPrivateKey(pem('wechatpay_private_key.pem'));
const PUB_ID = 'PUB_KEY_ID_0110000100SANDBOX00000000000001';
const APIV3 = '0123456789abcdef0123456789ABCDEF';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function wechat(handler: (r: SeenV3) => ScriptedV3Answer, signer = { key: wxKey, serial: PUB_ID }) {
  const s = await startScriptedV3(signer, handler);
  close = s.close;
  return s;
}

function client(url: string, extra: Partial<WechatPayV3ClientOptions> = {}) {
  return new WechatPayV3Client({
    appId: 'wxd930ea5d5a258f4f', mchid: '10000100', serialNo: 'SERIAL0001', privateKey: merchantKey, apiV3Key: APIV3,
    baseUrl: `${url}/v3base`, publicKey: { id: PUB_ID, pem: pem('wechatpay_public_key.pem') }, retryDelayMs: 1, ...extra,
  });
}

/** What WeChat checks first: the Authorization verifies with the merchant's key over exactly what was sent. */
function merchantSigned(r: SeenV3): boolean {
  const a = parseAuthorization(r.authorization);
  if (!a || a.mchid !== '10000100' || a.serialNo !== 'SERIAL0001') return false;
  return createVerify('RSA-SHA256').update(requestMessage(r.method, r.url, a.timestamp, a.nonce, r.body)).verify(merchantPub, a.signature, 'base64');
}

const order = { description: '绿茶', out_trade_no: 'T20261124000001', notify_url: 'https://shop.example.com/api/wechatpay/notify', amount: { total: 1 }, payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' } };

describe('WechatPayV3Client', () => {
  it('JSAPI order: signed request with appid, mchid and CNY added; signed answer believed', async () => {
    const s = await wechat((r) => (merchantSigned(r) ? { status: 200, body: '{"prepay_id":"wx2420000000"}' } : { status: 401, body: '{"code":"SIGN_ERROR","message":"签名错误"}' }));
    await expect(client(s.url).jsapi(order)).resolves.toEqual({ prepay_id: 'wx2420000000' });
    expect(s.seen[0].url).toBe('/v3base/v3/pay/transactions/jsapi');
    expect(JSON.parse(s.seen[0].body)).toMatchObject({ appid: 'wxd930ea5d5a258f4f', mchid: '10000100', amount: { total: 1, currency: 'CNY' }, payer: { openid: order.payer.openid } });
  });

  it('an answer not signed by the WeChat Pay key, or unsigned, is not believed', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const s = await wechat(() => ({ status: 200, body: '{"code_url":"weixin://x"}', signWith: { key: other, serial: PUB_ID } }));
    const c = client(s.url);
    await expect(c.native(order)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    await close!();
    const s2 = await wechat(() => ({ status: 200, body: '{"code_url":"weixin://x"}', sign: false }));
    await expect(client(s2.url).native(order)).rejects.toBeInstanceOf(WechatPaySignatureError);
    await close!();
    const s3 = await wechat(() => ({ status: 200, body: '{"code_url":"weixin://x"}', timestamp: Date.now() - 10 * 60_000 }));
    await expect(client(s3.url).native(order)).rejects.toMatchObject({ code: 'STALE_TIMESTAMP' });
  });

  it('queryByOutTradeNo with { maxRetries: 0 } is sent once; other calls and plain queries keep the client\'s retries', async () => {
    // The claimed status poll's query (lib/checkout/payments/sync.ts confirmPendingOrder) must be one
    // request per 3 s window at WeChat: no resend of a 5xx, SYSTEM_ERROR or dropped connection.
    const fails: ScriptedV3Answer[] = [{ status: 500, body: '{"code":"SYSTEM_ERROR","message":"系统错误"}' }, { status: 0, drop: true }];
    for (const failure of fails) {
      const s = await wechat(() => failure);
      await expect(client(s.url).queryByOutTradeNo('T20261124000001', { maxRetries: 0 })).rejects.toBeInstanceOf(WechatPayError);
      expect(s.seen).toHaveLength(1);
      await close!();
      close = undefined;
    }
    let n = 0;
    const paid = JSON.stringify({ out_trade_no: 'T20261124000001', trade_state: 'NOTPAY', amount: { total: 1 } });
    const s = await wechat((r) => (++n % 2 === 1 ? { status: 500, body: '{"code":"SYSTEM_ERROR","message":"系统错误"}' } : r.method === 'GET' ? { status: 200, body: paid } : { status: 204 }));
    const c = client(s.url);
    await expect(c.queryByOutTradeNo('T20261124000001')).resolves.toMatchObject({ trade_state: 'NOTPAY' });
    await expect(c.close('T20261124000001')).resolves.toBeUndefined();
    expect(s.seen.map((r) => r.method)).toEqual(['GET', 'GET', 'POST', 'POST']);
  });

  it.each([-1, 0.5, 6])('queryByOutTradeNo refuses maxRetries %s before sending anything', async (n) => {
    const s = await wechat(() => ({ status: 200, body: '{}' }));
    await expect(client(s.url).queryByOutTradeNo('T20261124000001', { maxRetries: n })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: `maxRetries must be a whole number from 0 to 5, got ${n}` });
    expect(s.seen).toEqual([]);
  });

  it('retries 5xx, SYSTEM_ERROR and a dropped connection with the very same request; 4xx once, typed with detail', async () => {
    let n = 0;
    const s = await wechat(() => {
      n++;
      if (n === 1) return { status: 500, body: '{"code":"SYSTEM_ERROR","message":"系统错误"}' };
      if (n === 2) return { status: 0, drop: true };
      return { status: 200, body: '{"code_url":"weixin://wxpay/bizpayurl?pr=abc"}' };
    });
    await expect(client(s.url).native(order)).resolves.toEqual({ code_url: 'weixin://wxpay/bizpayurl?pr=abc' });
    expect(s.seen).toHaveLength(3);
    expect(new Set(s.seen.map((r) => r.authorization)).size).toBe(1);
    expect(new Set(s.seen.map((r) => r.body)).size).toBe(1);
    await close!();

    const s2 = await wechat(() => ({ status: 400, body: JSON.stringify({ code: 'PARAM_ERROR', message: '参数错误', detail: { field: '/amount/total', location: 'body' } }) }));
    const err = await client(s2.url).native(order).catch((e) => e);
    expect(err).toBeInstanceOf(WechatPayV3ApiError);
    expect(err).toBeInstanceOf(WechatPayApiError);
    expect(err).toMatchObject({ code: 'PARAM_ERROR', statusCode: 400, detail: { field: '/amount/total' } });
    expect(s2.seen).toHaveLength(1);
    await close!();

    const s3 = await wechat(() => ({ status: 502, body: '<html>bad gateway</html>' }));
    await expect(client(s3.url, { maxRetries: 1 }).native(order)).rejects.toMatchObject({ code: 'HTTP_502' });
    expect(s3.seen).toHaveLength(2);
  });

  it('query by out_trade_no, close (204, still signed), refund, refund query', async () => {
    const s = await wechat((r) => {
      if (r.url.startsWith('/v3base/v3/pay/transactions/out-trade-no/T20261124000001?mchid=10000100')) return { status: 200, body: JSON.stringify({ appid: 'wxd930ea5d5a258f4f', mchid: '10000100', out_trade_no: 'T20261124000001', trade_state: 'NOTPAY', trade_state_desc: '未支付' }) };
      if (r.url.endsWith('/close')) return { status: 204 };
      if (r.url === '/v3base/v3/refund/domestic/refunds') return { status: 200, body: JSON.stringify({ refund_id: '50300', out_refund_no: 'R1', status: 'PROCESSING', amount: { total: 1, refund: 1 } }) };
      if (r.url === '/v3base/v3/refund/domestic/refunds/R1') return { status: 200, body: JSON.stringify({ refund_id: '50300', out_refund_no: 'R1', status: 'SUCCESS', amount: { total: 1, refund: 1 } }) };
      return { status: 404, body: '{"code":"ORDER_NOT_EXIST","message":"订单不存在"}' };
    });
    const c = client(s.url);
    await expect(c.queryByOutTradeNo('T20261124000001')).resolves.toMatchObject({ trade_state: 'NOTPAY' });
    await expect(c.close('T20261124000001')).resolves.toBeUndefined();
    expect(JSON.parse(s.seen[1].body)).toEqual({ mchid: '10000100' });
    await expect(c.refund({ out_trade_no: 'T20261124000001', out_refund_no: 'R1', amount: { refund: 1, total: 1, currency: 'CNY' } })).resolves.toMatchObject({ status: 'PROCESSING' });
    await expect(c.refundQuery('R1')).resolves.toMatchObject({ status: 'SUCCESS' });
    await expect(c.queryByOutTradeNo('T20269999999999')).rejects.toMatchObject({ code: 'ORDER_NOT_EXIST', statusCode: 404 });
  });

  it('refuses bad input before sending anything', async () => {
    const s = await wechat(() => ({ status: 200, body: '{}' }));
    const c = client(s.url);
    await expect(c.jsapi({ ...order, out_trade_no: 'bad no' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(c.jsapi({ ...order, amount: { total: 1.5 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(c.jsapi({ ...order, payer: { openid: '' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(c.native({ ...order, notify_url: 'https://x.example/n?a=1' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(c.refund({ out_trade_no: 'T20261124000001', out_refund_no: 'R1', amount: { refund: 2, total: 1, currency: 'CNY' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(s.seen).toHaveLength(0);
    expect(() => client(s.url, { apiV3Key: 'short' })).toThrow(WechatPayError);
  });

  it('trade bill: the download is checked against the SHA1 of the signed tradebill answer', async () => {
    const file = Buffer.from('交易时间,公众账号ID\n`2026-11-24 20:00:00,`wxd930ea5d5a258f4f\n', 'utf8');
    let served = file;
    const s = await wechat((r) => {
      if (r.url.startsWith('/v3base/v3/bill/tradebill?bill_date=2026-11-24')) {
        return { status: 200, body: JSON.stringify({ hash_type: 'SHA1', hash_value: createHash('sha1').update(file).digest('hex'), download_url: `${s.url}/v3base/v3/billdownload/file?token=abc` }) };
      }
      // The file answer carries no signature, as WeChat's does not.
      if (r.url === '/v3base/v3/billdownload/file?token=abc' && merchantSigned(r)) return { status: 200, body: served, sign: false };
      return { status: 404, body: '{"code":"NO_STATEMENT_EXIST","message":"账单不存在"}' };
    });
    const c = client(s.url);
    const link = await c.tradeBill('2026-11-24');
    await expect(c.downloadBill(link)).resolves.toEqual(file);
    served = Buffer.concat([file, Buffer.from('x')]);
    await expect(c.downloadBill(link)).rejects.toMatchObject({ code: 'BILL_HASH_MISMATCH' });
    await expect(c.downloadBill({ ...link, download_url: 'https://evil.example/v3/billdownload/file?token=abc' })).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
  });
});

describe('platform-certificate mode', () => {
  const platKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const newKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const DAY = 86_400_000;
  const cert = (key: typeof platKey, serial: string, from: number, to: number) => ({
    serial_no: serial,
    effective_time: new Date(from).toISOString().replace('Z', '+00:00'),
    expire_time: new Date(to).toISOString().replace('Z', '+00:00'),
    encrypt_certificate: { ...encryptResource(selfSignedCertificate({ privateKey: key, serialHex: serial, commonName: 'Tenpay.com Root CA', notBeforeMs: from, notAfterMs: to }), APIV3, 'certificate', 'certificate'), original_type: undefined },
  });

  it('fetches /v3/certificates, decrypts, verifies with them, and refetches for a new serial (rotation) and before expiry', async () => {
    const now = Date.now();
    let clock = now;
    const certs = [cert(platKey, '5157F09EFDC096DE15EBE81A47057A7232F3E5E3', now - DAY, now + 2 * DAY)];
    let signer = { key: platKey, serial: '5157F09EFDC096DE15EBE81A47057A7232F3E5E3' };
    const s = await wechat((r) => {
      if (r.url === '/v3base/v3/certificates') return { status: 200, body: JSON.stringify({ data: certs }), signWith: signer, timestamp: clock };
      return { status: 200, body: '{"code_url":"weixin://p"}', signWith: signer, timestamp: clock };
    }, signer);
    const c = client(s.url, { publicKey: undefined, platformCertificates: true, now: () => clock });
    await expect(c.native(order)).resolves.toEqual({ code_url: 'weixin://p' });
    expect(s.seen.map((r) => r.url)).toEqual(['/v3base/v3/pay/transactions/native', '/v3base/v3/certificates']);
    await c.native(order);
    expect(s.seen.filter((r) => r.url.endsWith('/certificates'))).toHaveLength(1);

    // WeChat publishes a new certificate and starts signing with it: an unknown serial triggers one refetch.
    certs.push(cert(newKey, '6A7B', now - DAY, now + 5 * 365 * DAY));
    signer = { key: newKey, serial: '6A7B' };
    await expect(c.native(order)).resolves.toBeDefined();
    expect(s.seen.filter((r) => r.url.endsWith('/certificates'))).toHaveLength(2);

    // 13 h later the 12 h refresh comes due, and a fetch happens first.
    clock = now + 13 * 3600_000;
    await c.native(order);
    expect(s.seen.filter((r) => r.url.endsWith('/certificates'))).toHaveLength(3);
  });

  it('refetches when every held certificate is about to expire, at most once a minute while no successor is published', async () => {
    const now = Date.now();
    let clock = now;
    const certs = [cert(platKey, '01CD', now - DAY, now + 3 * 3600_000)];
    const signer = { key: platKey, serial: '01CD' };
    const s = await wechat((r) => (r.url.endsWith('/certificates') ? { status: 200, body: JSON.stringify({ data: certs }), signWith: signer, timestamp: clock } : { status: 200, body: '{"code_url":"weixin://e"}', signWith: signer, timestamp: clock }), signer);
    const c = client(s.url, { publicKey: undefined, platformCertificates: true, now: () => clock });
    const fetches = () => s.seen.filter((r) => r.url.endsWith('/certificates')).length;
    await c.native(order);
    await c.native(order);
    expect(fetches()).toBe(1); // expiring within 24 h, but fetched just now
    clock = now + 61_000;
    await c.native(order);
    expect(fetches()).toBe(2); // a minute later: look for the successor again
    await c.native(order);
    expect(fetches()).toBe(2);
    // Past its expiry the certificate is never used: nothing verifies until a new one is published.
    clock = now + 4 * 3600_000;
    await expect(c.native(order)).rejects.toMatchObject({ code: 'UNKNOWN_SERIAL' });
  });

  it('a certificate list that does not decrypt with the APIv3 key is not trusted', async () => {
    const now = Date.now();
    const bad = cert(platKey, '01AB', now - DAY, now + DAY);
    bad.encrypt_certificate.ciphertext = Buffer.from(Buffer.from(bad.encrypt_certificate.ciphertext, 'base64').map((b, i) => (i === 3 ? b ^ 1 : b))).toString('base64');
    const s = await wechat(() => ({ status: 200, body: JSON.stringify({ data: [bad] }), signWith: { key: platKey, serial: '01AB' } }));
    const c = client(s.url, { publicKey: undefined, platformCertificates: true });
    await expect(c.native(order)).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
  });

  it('both modes at once: either key verifies during a switch', async () => {
    const now = Date.now();
    const certs = [cert(platKey, '01AB', now - DAY, now + 3 * DAY)];
    let signer = { key: wxKey, serial: PUB_ID };
    const s = await wechat((r) => (r.url.endsWith('/certificates') ? { status: 200, body: JSON.stringify({ data: certs }), signWith: { key: platKey, serial: '01AB' } } : { status: 200, body: '{"code_url":"weixin://b"}', signWith: signer }));
    const c = client(s.url, { platformCertificates: true });
    await expect(c.native(order)).resolves.toBeDefined();
    signer = { key: platKey, serial: '01AB' };
    await expect(c.native(order)).resolves.toBeDefined();
    expect(c.keys.serials()).toEqual([PUB_ID, '01AB']);
  });
});
