import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  authorizationHeader, decryptResource, encryptResource, jsapiMessage, jsapiParamsV3, loadPrivateKey, loadPublicKey, parseAuthorization,
  requestMessage, responseMessage, rsaSign, signRequest, StaticKeys, verifyJsapiParamsV3, verifyWechatpaySignature,
} from '../../../../lib/wechatpay/v3';

/*
 * Every vector of test/fixtures/wechatpay-v3/vectors.json (computed with node:crypto, checked with an
 * independent SDK). The formats follow WeChat's v3 rules: request signature
 * https://pay.weixin.qq.com/wiki/doc/apiv3/wechatpay/wechatpay4_0.shtml, response signature
 * https://pay.weixin.qq.com/wiki/doc/apiv3/wechatpay/wechatpay4_1.shtml, AES-GCM resources
 * https://pay.weixin.qq.com/wiki/doc/apiv3/wechatpay/wechatpay4_2.shtml, JSAPI paySign
 * https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_1_4.shtml.
 */
const dir = path.join(__dirname, '../../../fixtures/wechatpay-v3');
const v = JSON.parse(readFileSync(path.join(dir, 'vectors.json'), 'utf8'));
const pem = (f: string) => readFileSync(path.join(dir, f), 'utf8');
const merchantKey = loadPrivateKey(pem('merchant_private_key.pem'));
const merchantPub = loadPublicKey(pem('merchant_public_key.pem'));
const wechatpayKey = loadPrivateKey(pem('wechatpay_private_key.pem'));
const wechatpayPub = loadPublicKey(pem('wechatpay_public_key.pem'));
const at = Number(v.request_signature.timestamp) * 1000;

describe('v3 vectors', () => {
  it('request_signature: message, signature and Authorization header', () => {
    const r = v.request_signature;
    expect(requestMessage(r.method, r.url, r.timestamp, r.nonce_str, r.body)).toBe(r.message);
    expect(rsaSign(r.message, merchantKey)).toBe(r.signature);
    const signed = signRequest({ method: r.method, url: r.url, body: r.body, mchid: v.merchant.mchid, serialNo: v.merchant.serial_no, privateKey: merchantKey, now: at, nonce: r.nonce_str });
    expect(signed.signature).toBe(r.signature);
    expect(signed.authorization).toBe(r.authorization);
    expect(authorizationHeader({ mchid: v.merchant.mchid, serialNo: v.merchant.serial_no, timestamp: r.timestamp, nonce: r.nonce_str, signature: r.signature })).toBe(r.authorization);
    expect(parseAuthorization(r.authorization)).toEqual({ mchid: '10000100', serialNo: 'SERIAL0001', timestamp: r.timestamp, nonce: r.nonce_str, signature: r.signature });
  });

  it('response_signature: message, verification with the public key id, and the same signature from the WeChat Pay key', async () => {
    const r = v.response_signature;
    const h = r.headers;
    expect(responseMessage(h['Wechatpay-Timestamp'], h['Wechatpay-Nonce'], r.body)).toBe(r.message);
    expect(rsaSign(r.message, wechatpayKey)).toBe(h['Wechatpay-Signature']);
    const keys = new StaticKeys([[v.wechatpay.public_key_id, wechatpayPub]]);
    const headers = { timestamp: h['Wechatpay-Timestamp'], nonce: h['Wechatpay-Nonce'], signature: h['Wechatpay-Signature'], serial: h['Wechatpay-Serial'] };
    await expect(verifyWechatpaySignature(headers, r.body, keys, { now: at })).resolves.toBe(v.wechatpay.public_key_id);
    // One changed byte of the body, and it no longer verifies.
    await expect(verifyWechatpaySignature(headers, r.body.replace('wx242', 'wx243'), keys, { now: at })).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
  });

  it('jsapi_pay_sign: message and paySign with signType RSA, verified with the merchant public key', () => {
    const j = v.jsapi_pay_sign;
    expect(jsapiMessage(j)).toBe(j.message);
    const params = jsapiParamsV3({ appId: j.appId, prepayId: j.package.slice('prepay_id='.length), privateKey: merchantKey, now: Number(j.timeStamp) * 1000, nonce: j.nonceStr });
    expect(params).toEqual({ appId: j.appId, timeStamp: j.timeStamp, nonceStr: j.nonceStr, package: j.package, signType: 'RSA', paySign: j.paySign });
    expect(verifyJsapiParamsV3(params, merchantPub)).toBe(true);
    expect(verifyJsapiParamsV3({ ...params, nonceStr: 'X' + j.nonceStr.slice(1) }, merchantPub)).toBe(false);
    expect(verifyJsapiParamsV3({ ...params, signType: 'MD5' }, merchantPub)).toBe(false);
  });

  it('notify_resource: decrypts to the plaintext, and encrypting it again gives the same ciphertext', () => {
    const n = v.notify_resource;
    const resource = { algorithm: n.algorithm, ciphertext: n.ciphertext, associated_data: n.associated_data, nonce: n.nonce };
    expect(decryptResource(resource, n.apiv3_key)).toBe(n.plaintext);
    expect(encryptResource(n.plaintext, n.apiv3_key, n.associated_data, 'transaction', n.nonce).ciphertext).toBe(n.ciphertext);
    // GCM authenticates: another key, another AAD or one flipped bit fail instead of giving garbage.
    expect(() => decryptResource(resource, n.apiv3_key.replace('0', '1'))).toThrow(/does not decrypt/);
    expect(() => decryptResource({ ...resource, associated_data: 'refund' }, n.apiv3_key)).toThrow(/does not decrypt/);
    const bytes = Buffer.from(n.ciphertext, 'base64');
    bytes[bytes.length - 1] ^= 1;
    expect(() => decryptResource({ ...resource, ciphertext: bytes.toString('base64') }, n.apiv3_key)).toThrow(/does not decrypt/);
  });
});
