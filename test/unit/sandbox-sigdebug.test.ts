import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { diagnoseSignature, maskKey, maskKeyIn } from '@/lib/sandbox/sigdebug';

/**
 * The signature debugger's diagnosis in isolation (the HTTP face is test/integration/sandbox-sigdebug.test.ts):
 * the wrong ways the integration suite does not send, each sign computed here with node:crypto.
 */
const K = '192006250b4c09247ec02edce69f6a2d';
const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex').toUpperCase();
const hmac = (s: string, key = K) => createHmac('sha256', key).update(s, 'utf8').digest('hex').toUpperCase();
const F = { appid: 'wxd930ea5d5a258f4f', mch_id: '10000100', nonce_str: 'ibuaiVcKdpRxkhJA', body: 'a b', notify_url: 'http://x.test/n' };
const A = 'appid=wxd930ea5d5a258f4f&body=a b&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&notify_url=http://x.test/n';

describe('signature debugger', () => {
  it('masks the key: 4 + **** + 4, in any case, wherever it appears', () => {
    expect(maskKey(K)).toBe('1920****6a2d');
    expect(maskKey('short')).toBe('****');
    expect(maskKeyIn(`a=${K.toUpperCase()}&key=${K}`, K)).toBe('a=1920****6a2d&key=1920****6a2d');
  });

  it('gives the expected string (key masked) and sign for the declared type', () => {
    const d = diagnoseSignature({ ...F, sign: 'X' }, K, 'MD5');
    expect(d.expectedStringToSign).toBe(`${A}&key=1920****6a2d`);
    expect(d.expectedSign).toBe(md5(`${A}&key=${K}`));
    expect(d).toMatchObject({ cause: 'wrong_key', detail: 'not hex', receivedSign: 'X' });
  });

  it('names form-encoding (space as +) as url_encoded', () => {
    const form = new URLSearchParams(A.split('&').map((p) => p.split('=', 2) as [string, string])).toString();
    expect(form).toContain('body=a+b');
    expect(diagnoseSignature({ ...F, sign: md5(`${form}&key=${K}`) }, K, 'MD5').cause).toBe('url_encoded');
  });

  it('names the key appended without "&key=" and key sorted in with the key also appended', () => {
    expect(diagnoseSignature({ ...F, sign: md5(`${A}${K}`) }, K, 'MD5')).toMatchObject({ cause: 'key_missing', detail: 'stringAKEY' });
    const sortedKey = A.replace('&mch_id', `&key=${K}&mch_id`);
    expect(diagnoseSignature({ ...F, sign: md5(`${sortedKey}&key=${K}`) }, K, 'MD5')).toMatchObject({ cause: 'unsigned_field_included', detail: 'key=' });
  });

  it('names an HMAC request signed with the key in upper case (the HMAC secret too)', () => {
    const f = { ...F, sign_type: 'HMAC-SHA256' };
    const a = `${A}&sign_type=HMAC-SHA256`;
    const up = K.toUpperCase();
    expect(diagnoseSignature({ ...f, sign: hmac(`${a}&key=${up}`, up) }, K, 'HMAC-SHA256')).toMatchObject({ cause: 'key_case', detail: 'key=UPPER' });
  });

  it('names the mistake and the other algorithm when both are wrong', () => {
    const unsorted = 'appid=wxd930ea5d5a258f4f&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&body=a b&notify_url=http://x.test/n';
    const d = diagnoseSignature({ ...F, sign: hmac(`${unsorted}&key=${K}`) }, K, 'MD5');
    expect(d).toMatchObject({ cause: 'not_sorted', detail: 'appid mch_id nonce_str body notify_url + HMAC-SHA256' });
  });

  it('reads a sign_type mismatch from the length when the key is wrong too', () => {
    const other = hmac(`${A}&key=ffffffffffffffffffffffffffffffff`, 'ffffffffffffffffffffffffffffffff');
    expect(diagnoseSignature({ ...F, sign: other }, K, 'MD5').cause).toBe('sign_type_mismatch');
    expect(diagnoseSignature({ ...F, sign: md5('x') }, K, 'MD5').cause).toBe('wrong_key');
  });

  it('names sign included with an empty placeholder', () => {
    const s = md5(`${A}&sign=&key=${K}`);
    expect(diagnoseSignature({ ...F, sign: s }, K, 'MD5')).toMatchObject({ cause: 'unsigned_field_included', detail: 'sign=' });
  });
});
