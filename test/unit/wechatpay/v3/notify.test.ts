import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encryptResource, loadPrivateKey, loadPublicKey, looksLikeV3Notify, parseV3Notify, responseMessage, rsaSign, StaticKeys } from '../../../../lib/wechatpay/v3';

const dir = path.join(__dirname, '../../../fixtures/wechatpay-v3');
const v = JSON.parse(readFileSync(path.join(dir, 'vectors.json'), 'utf8'));
const wxKey = loadPrivateKey(readFileSync(path.join(dir, 'wechatpay_private_key.pem')));
const keys = new StaticKeys([[v.wechatpay.public_key_id, loadPublicKey(readFileSync(path.join(dir, 'wechatpay_public_key.pem')))]]);
const n = v.notify_resource;

/** The vector's resource in a notify envelope, signed as WeChat signs notifies (docs/wechatpay-v3.md §4). */
function notify(resource: Record<string, string | undefined> = { algorithm: n.algorithm, ciphertext: n.ciphertext, associated_data: n.associated_data, nonce: n.nonce, original_type: 'transaction' }, at = Date.now()) {
  const body = JSON.stringify({ id: 'EV-1', create_time: '2026-11-24T20:00:01+08:00', event_type: 'TRANSACTION.SUCCESS', resource_type: 'encrypt-resource', summary: '支付成功', resource });
  const timestamp = String(Math.floor(at / 1000));
  return { body, headers: { timestamp, nonce: 'abc', serial: v.wechatpay.public_key_id, signature: rsaSign(responseMessage(timestamp, 'abc', body), wxKey) } };
}

describe('parseV3Notify', () => {
  it('verifies, then decrypts the vector resource', async () => {
    const { body, headers } = notify();
    expect(looksLikeV3Notify(body)).toBe(true);
    expect(looksLikeV3Notify('<xml><return_code>SUCCESS</return_code></xml>')).toBe(false);
    const r = await parseV3Notify(headers, body, { keys, apiV3Key: n.apiv3_key });
    expect(r.plaintext).toBe(n.plaintext);
    expect(r.resource).toMatchObject({ out_trade_no: 'P20261124000000TEST', amount: { total: 1 } });
    expect(r.envelope.event_type).toBe('TRANSACTION.SUCCESS');
  });

  it('refuses before decrypting: changed body, stale timestamp, unknown serial; then a bad GCM tag', async () => {
    const { body, headers } = notify();
    await expect(parseV3Notify(headers, body.replace('支付成功', '支付失败'), { keys, apiV3Key: n.apiv3_key })).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    const old = notify(undefined, Date.now() - 6 * 60_000);
    await expect(parseV3Notify(old.headers, old.body, { keys, apiV3Key: n.apiv3_key })).rejects.toMatchObject({ code: 'STALE_TIMESTAMP' });
    await expect(parseV3Notify({ ...headers, serial: 'PUB_KEY_ID_OTHER' }, body, { keys, apiV3Key: n.apiv3_key })).rejects.toMatchObject({ code: 'UNKNOWN_SERIAL' });
    // Signed correctly, but the ciphertext's tag does not hold: a sender with the signing key but not the APIv3 key.
    const other = encryptResource(n.plaintext, 'ffffffffffffffffffffffffffffffff', 'transaction', 'transaction');
    const forged = notify({ ...other, original_type: 'transaction' });
    await expect(parseV3Notify(forged.headers, forged.body, { keys, apiV3Key: n.apiv3_key })).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
  });
});
