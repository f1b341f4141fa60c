import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '@/lib/wechatpay/sign';
import { parseXml } from '@/lib/wechatpay/xml';
import { ENGINES } from '../helpers/db';
import { type AppServer, startApp } from '../helpers/server';
import { outTradeNo, SBX } from '../helpers/sandbox';

/**
 * The signature debugger, over real HTTP: requests signed the common wrong ways. WeChat's rule
 * (https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3, docs/wechatpay-v2.md s.1):
 *
 *   第一步，设所有发送或者接收到的数据为集合M，将集合M内非空参数值的参数按照参数名ASCII码从小到大排序（字典序），
 *   使用URL键值对的格式（即key1=value1&key2=value2…）拼接成字符串stringA。
 *   ◆ 参数名ASCII码从小到大排序（字典序）；◆ 如果参数的值为空不参与签名；◆ 参数名区分大小写；
 *   ◆ 验证调用返回或微信主动通知签名时，传送的sign参数不参与签名 ...
 *   第二步，在stringA最后拼接上key得到stringSignTemp字符串，并对stringSignTemp进行MD5运算，再将得到的字符串
 *   所有字符转换为大写，得到sign值signValue。
 *
 * On the wire a bad signature gets only `return_code=FAIL` / `return_msg=签名错误`, unsigned (seen from
 * live WeChat, docs/wechatpay-v2.md s.3); the diagnosis is only on /sandbox/sim/requests and /sandbox.
 * Whether live WeChat accepts a lower-case hex sign is UNVERIFIED: the sandbox refuses it (conservative).
 * The signs below are computed here with node:crypto, independently of lib/sandbox/sigdebug.ts.
 */
const K = SBX.apiKey;
const MASKED = '1920****6a2d';
const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex').toUpperCase();
const hmac = (s: string, key = K) => createHmac('sha256', key).update(s, 'utf8').digest('hex').toUpperCase();
type Pairs = Array<[string, string]>;
const byName = (p: Pairs): Pairs => [...p].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const joined = (p: Pairs, enc: (v: string) => string = (v) => v) => p.map(([k, v]) => `${k}=${enc(v)}`).join('&');

/** A NATIVE unifiedorder's fields in the order a merchant might build them (not sorted). */
function order(): Pairs {
  return [
    ['appid', SBX.appid], ['mch_id', SBX.mchId], ['nonce_str', `n${Date.now()}${Math.random().toString(36).slice(2, 10)}`],
    ['body', '沙箱 测试商品'], ['out_trade_no', outTradeNo('S')], ['total_fee', '1'], ['spbill_create_ip', '127.0.0.1'],
    ['notify_url', 'http://127.0.0.1:9/notify'], ['trade_type', 'NATIVE'], ['product_id', 'sku-1'],
  ];
}

/** The XML body exactly as given: document order kept, empty elements written as `<k></k>`. */
function xml(p: Pairs): string {
  return `<xml>${p.map(([k, v]) => (v === '' ? `<${k}></${k}>` : `<${k}><![CDATA[${v}]]></${k}>`)).join('')}</xml>`;
}

describe.each(ENGINES)('sandbox signature debugger (%s)', (engine) => {
  let app: AppServer;
  let base: string;
  beforeAll(async () => {
    app = await startApp({ engine });
    base = app.baseUrl;
  });
  afterAll(async () => app?.stop());

  async function post(p: Pairs, signValue: string, path = '/sandbox/mch/pay/unifiedorder') {
    const r = await fetch(`${base}${path}`, { method: 'POST', body: xml([...p, ['sign', signValue]]), headers: { 'content-type': 'text/xml' } });
    const text = await r.text();
    return { status: r.status, text, fields: parseXml(text) };
  }

  async function requests(): Promise<{ text: string; list: Array<Record<string, string>> }> {
    const r = await fetch(`${base}/sandbox/sim/requests`);
    expect(r.status).toBe(200);
    const text = await r.text();
    return { text, list: (JSON.parse(text) as { requests: Array<Record<string, string>> }).requests };
  }

  /** Sends the request signed `signValue`, checks WeChat's bare refusal, and returns its log entry. */
  async function refusedAs(p: Pairs, signValue: string, path?: string) {
    const r = await post(p, signValue, path);
    expect(r.status).toBe(200);
    expect(r.fields, r.text).toEqual({ return_code: 'FAIL', return_msg: '签名错误' });
    const { text, list } = await requests();
    expect(text.toLowerCase()).not.toContain(K.toLowerCase());
    const entry = list[0];
    expect(entry).toMatchObject({ outcome: 'refused', reason: '签名错误', received_sign: signValue });
    return entry;
  }

  const right = (p: Pairs) => `${joined(byName(p.filter(([, v]) => v !== '')))}&key=${K}`;

  it('names a wrong key, shows the expected string with the key masked, and the sign it expected', async () => {
    const p = order();
    const e = await refusedAs(p, md5(right(p).replace(K, 'ffffffffffffffffffffffffffffffff')));
    expect(e.likely_cause).toBe('wrong_key');
    expect(e.api).toBe('unifiedorder');
    expect(e.expected_string_to_sign).toBe(right(p).replace(`&key=${K}`, `&key=${MASKED}`));
    expect(e.expected_sign).toBe(md5(right(p)));
    expect(new Date(e.at).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('names a sign_type mismatch: HMAC-SHA256 declared but MD5 signed, and HMAC signed with sign_type absent', async () => {
    const p: Pairs = [...order(), ['sign_type', 'HMAC-SHA256']];
    const declared = await refusedAs(p, md5(right(p)));
    expect(declared.likely_cause).toBe('sign_type_mismatch');
    expect(declared.expected_sign).toBe(hmac(right(p)));
    const q = order();
    expect((await refusedAs(q, hmac(right(q)))).likely_cause).toBe('sign_type_mismatch');
  });

  it('names sign_type left out of the string (it is signed whenever sent)', async () => {
    const p: Pairs = [...order(), ['sign_type', 'MD5']];
    const without = `${joined(byName(p.filter(([k]) => k !== 'sign_type')))}&key=${K}`;
    expect((await refusedAs(p, md5(without))).likely_cause).toBe('sign_type_not_signed');
  });

  it('names an empty field included in the string (attach=&)', async () => {
    const p: Pairs = [...order(), ['attach', '']];
    const withEmpty = `${joined(byName(p))}&key=${K}`;
    expect(withEmpty).toContain('attach=&');
    expect((await refusedAs(p, md5(withEmpty))).likely_cause).toBe('empty_field_included');
  });

  it('names a lower-case hex sign (refused: WeChat upper-cases it; acceptance by live WeChat is unverified)', async () => {
    const p = order();
    expect((await refusedAs(p, md5(right(p)).toLowerCase())).likely_cause).toBe('lowercase_sign');
  });

  it('names a key whose letter case was changed', async () => {
    const p = order();
    const upper = right(p).replace(K, K.toUpperCase());
    expect((await refusedAs(p, md5(upper))).likely_cause).toBe('key_case');
  });

  it('names URL-encoded values', async () => {
    const p = order();
    expect((await refusedAs(p, md5(`${joined(byName(p), encodeURIComponent)}&key=${K}`))).likely_cause).toBe('url_encoded');
  });

  it('names a field WeChat does not sign: key sorted in among the fields', async () => {
    const p = order();
    expect((await refusedAs(p, md5(joined(byName([...p, ['key', K]]))))).likely_cause).toBe('unsigned_field_included');
  });

  it('names fields not sorted by ASCII (signed in the order sent)', async () => {
    const p = order();
    expect((await refusedAs(p, md5(`${joined(p)}&key=${K}`))).likely_cause).toBe('not_sorted');
  });

  it('names a missing &key=', async () => {
    const p = order();
    expect((await refusedAs(p, md5(joined(byName(p))))).likely_cause).toBe('key_missing');
  });

  it('names a missing sign, and records the API of the path (refund)', async () => {
    const p = order();
    const r = await fetch(`${base}/sandbox/mch/secapi/pay/refund`, { method: 'POST', body: xml(p) });
    expect(parseXml(await r.text())).toEqual({ return_code: 'FAIL', return_msg: '签名错误' });
    const [e] = (await requests()).list;
    expect(e).toMatchObject({ api: 'refund', likely_cause: 'sign_missing', received_sign: '' });
  });

  it('records other refusals without a diagnosis, and a correct sign is answered and not recorded', async () => {
    const r = await fetch(`${base}/sandbox/mch/pay/orderquery`, { method: 'POST', body: 'not xml' });
    expect(parseXml(await r.text())).toEqual({ return_code: 'FAIL', return_msg: 'XML格式错误' });
    const before = (await requests()).list;
    expect(before[0]).toEqual({ at: before[0].at, api: 'orderquery', outcome: 'refused', reason: 'XML格式错误' });
    const p = order();
    const ok = await post(p, md5(right(p)));
    expect(ok.fields.result_code, ok.text).toBe('SUCCESS');
    const h: Pairs = [...order(), ['sign_type', 'HMAC-SHA256']];
    expect(hmac(right(h))).toBe(sign(Object.fromEntries(h), K, 'HMAC-SHA256'));
    const okHmac = await post(h, hmac(right(h)));
    expect(okHmac.fields.result_code, okHmac.text).toBe('SUCCESS');
    expect((await requests()).list).toEqual(before);
  });

  it('the dashboard lists refused requests with the cause, in Chinese by default and English on request, never the key', async () => {
    const p = order();
    await refusedAs(p, md5(`${joined(p)}&key=${K}`));
    const zh = await (await fetch(`${base}/sandbox`)).text();
    expect(zh).toContain('被拒绝的请求');
    expect(zh).toMatch(/data-testid="sandbox-request"[^>]*data-cause="not_sorted"/);
    expect(zh).toContain('参数没有按参数名 ASCII 码从小到大排序');
    expect(zh).toContain(`&amp;key=${MASKED}`);
    expect(zh.toLowerCase()).not.toContain(K.toLowerCase());
    const en = await (await fetch(`${base}/sandbox`, { headers: { 'accept-language': 'en-US,en;q=0.9' } })).text();
    expect(en).toContain('Refused requests');
    expect(en).toContain('The fields were not sorted by name in ASCII order');
    expect(en.toLowerCase()).not.toContain(K.toLowerCase());
  });

  it('keeps only the newest 200, newest first', async () => {
    const sent: string[] = [];
    for (let i = 0; i < 205; i++) {
      const s = `BAD${String(i).padStart(4, '0')}`;
      sent.push(s);
      const r = await post(order(), s);
      expect(r.fields.return_msg).toBe('签名错误');
    }
    const { list } = await requests();
    expect(list).toHaveLength(200);
    expect(list.slice(0, 200).map((e) => e.received_sign)).toEqual(sent.slice(5).reverse());
  });
});
