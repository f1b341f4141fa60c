import { describe, expect, it } from 'vitest';
import { WechatPayXmlError } from '../../../lib/wechatpay/errors';
import { buildXml, MAX_XML_BYTES, parseXml } from '../../../lib/wechatpay/xml';

const refused = (code: string) => expect.objectContaining({ name: 'WechatPayXmlError', code });

describe('buildXml', () => {
  it('root <xml>, strings in CDATA, digits bare, empty and undefined left out', () => {
    expect(buildXml({ appid: 'wx1', total_fee: '1', out_trade_no: '0012', body: '', x: undefined })).toBe(
      '<xml><appid><![CDATA[wx1]]></appid><total_fee>1</total_fee><out_trade_no>0012</out_trade_no></xml>',
    );
  });
  it('escapes nothing inside CDATA but splits a ]]> safely', () => {
    const fields = { body: 'a<b>&c', attach: 'x]]>y', detail: '{"a":"]]>"}' };
    expect(parseXml(buildXml(fields))).toEqual(fields);
  });
  it('refuses field names that are not XML names', () => {
    expect(() => buildXml({ 'a b': '1' })).toThrow(WechatPayXmlError);
    expect(() => buildXml({ '<x>': '1' })).toThrow(WechatPayXmlError);
  });
});

describe('parseXml', () => {
  it('keeps every value a string: no number coercion, no trimming', () => {
    const f = parseXml('<xml><out_trade_no>0012</out_trade_no><total_fee>100</total_fee><big>12345678901234567890</big><sp><![CDATA[ a ]]></sp><t>true</t></xml>');
    expect(f).toEqual({ out_trade_no: '0012', total_fee: '100', big: '12345678901234567890', sp: ' a ', t: 'true' });
  });
  it('reads WeChat-style indented bodies with an XML declaration, BOM, empty and self-closed fields', () => {
    const body = '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n  <return_code><![CDATA[SUCCESS]]></return_code>\n  <err_code></err_code>\n  <x/>\n</xml>\n';
    expect(parseXml(body)).toEqual({ return_code: 'SUCCESS', err_code: '', x: '' });
    expect(parseXml(Buffer.from(body, 'utf8'))).toEqual({ return_code: 'SUCCESS', err_code: '', x: '' });
  });
  it('decodes the predefined entities outside CDATA only', () => {
    expect(parseXml('<xml><a>&lt;b&gt;&amp;</a><c><![CDATA[&amp;]]></c></xml>')).toEqual({ a: '<b>&', c: '&amp;' });
  });
  it('round trips every printable field', () => {
    const fields = { appid: 'wxd930ea5d5a258f4f', body: '测试商品 · 1件', total_fee: '1', attach: '{"k":"v & w"}', nonce_str: 'abc' };
    expect(parseXml(buildXml(fields))).toEqual(fields);
  });
  it('reads a decrypted refund <root> when asked', () => {
    expect(parseXml('<root><out_refund_no>R1</out_refund_no></root>', { rootName: 'root' })).toEqual({ out_refund_no: 'R1' });
    expect(() => parseXml('<root><a>1</a></root>')).toThrow(refused('XML_ROOT'));
  });
});

describe('parseXml refuses hostile or malformed input before trusting it', () => {
  it('a DOCTYPE with an external entity (XXE)', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><a>&xxe;</a></xml>';
    expect(() => parseXml(xxe)).toThrow(refused('XML_DOCTYPE'));
  });
  it('an entity-expansion bomb (billion laughs)', () => {
    const lol = ['<!DOCTYPE lolz [<!ENTITY lol "lol">'];
    for (let i = 1; i < 10; i++) lol.push(`<!ENTITY lol${i} "${`&lol${i - 1 || ''};`.repeat(10)}">`);
    const bomb = `${lol.join('')}]><xml><a>&lol9;</a></xml>`;
    const started = Date.now();
    expect(() => parseXml(bomb)).toThrow(refused('XML_DOCTYPE'));
    expect(Date.now() - started).toBeLessThan(200);
  });
  it('lower-case doctype and a lone ENTITY or ELEMENT declaration', () => {
    expect(() => parseXml('<!doctype xml><xml><a>1</a></xml>')).toThrow(refused('XML_DOCTYPE'));
    expect(() => parseXml('<xml><!ENTITY a "b"><a>1</a></xml>')).toThrow(refused('XML_DOCTYPE'));
    expect(() => parseXml('<xml><!ELEMENT a ANY><a>1</a></xml>')).toThrow(refused('XML_DOCTYPE'));
  });
  it('a body over the cap, counted in bytes, before parsing', () => {
    const over = `<xml><a>${'x'.repeat(MAX_XML_BYTES)}</a></xml>`;
    expect(() => parseXml(over)).toThrow(refused('XML_TOO_LARGE'));
    expect(() => parseXml(Buffer.from(over))).toThrow(refused('XML_TOO_LARGE'));
    // 3 bytes per character: under the cap in characters, over it in bytes.
    const zh = `<xml><a>${'测'.repeat(Math.ceil(MAX_XML_BYTES / 3))}</a></xml>`;
    expect(zh.length).toBeLessThan(MAX_XML_BYTES);
    expect(() => parseXml(zh)).toThrow(refused('XML_TOO_LARGE'));
    expect(() => parseXml('<xml><a>1234</a></xml>', { maxBytes: 10 })).toThrow(refused('XML_TOO_LARGE'));
  });
  it('empty, not XML, wrong root, nested, repeated and mixed-text bodies', () => {
    expect(() => parseXml('')).toThrow(refused('XML_EMPTY'));
    expect(() => parseXml('{"return_code":"SUCCESS"}')).toThrow(WechatPayXmlError);
    expect(() => parseXml('<html><body>502</body></html>')).toThrow(refused('XML_ROOT'));
    expect(() => parseXml('<xml><a><b>1</b></a></xml>')).toThrow(refused('XML_NESTED'));
    expect(() => parseXml('<xml><a>1</a><a>2</a></xml>')).toThrow(refused('XML_NESTED'));
    expect(() => parseXml('<xml>loose<a>1</a></xml>')).toThrow(refused('XML_MIXED'));
    expect(() => parseXml('<xml><a>1</b></xml>')).toThrow(refused('XML_MALFORMED'));
  });
});
