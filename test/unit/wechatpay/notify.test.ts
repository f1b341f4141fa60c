import { describe, expect, it } from 'vitest';
import { encryptReqInfo } from '../../../lib/wechatpay/crypto';
import { WechatPayDecryptError, WechatPaySignatureError, WechatPayXmlError } from '../../../lib/wechatpay/errors';
import { NOTIFY_SUCCESS_XML, notifyFailXml, parsePaymentNotify, parseRefundNotify } from '../../../lib/wechatpay/notify';
import { sign } from '../../../lib/wechatpay/sign';
import { buildXml, parseXml } from '../../../lib/wechatpay/xml';
import { encryptedRefundNotify, signedPaymentNotify } from '../../helpers/wechatpay-fixtures';

const KEY = '192006250b4c09247ec02edce69f6a2d';
const ids = { apiKey: KEY, appId: 'wxd930ea5d5a258f4f', mchId: '10000100' };

describe('parsePaymentNotify', () => {
  it('reads a signed MD5 notify with every value a string', () => {
    const xml = signedPaymentNotify({ out_trade_no: '0012345', total_fee: '100', attach: 'a&b' }, { apiKey: KEY });
    expect(xml).not.toContain('sign_type');
    const f = parsePaymentNotify(xml, { apiKey: KEY, signType: 'MD5' });
    expect(f).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS', out_trade_no: '0012345', total_fee: '100', attach: 'a&b', trade_type: 'JSAPI' });
    expect(f.transaction_id).toMatch(/^4200\d{24}$/);
    expect(parsePaymentNotify(Buffer.from(xml), { apiKey: KEY, signType: 'MD5' }).out_trade_no).toBe('0012345');
  });
  it('HMAC notify without sign_type verifies only with the configured HMAC type (the classic SDK bug)', () => {
    const xml = signedPaymentNotify({}, { apiKey: KEY, signType: 'HMAC-SHA256' });
    expect(parsePaymentNotify(xml, { apiKey: KEY, signType: 'HMAC-SHA256' }).result_code).toBe('SUCCESS');
    expect(() => parsePaymentNotify(xml, { apiKey: KEY, signType: 'MD5' })).toThrow(WechatPaySignatureError);
  });
  it('a notify that names its sign_type is verified with it, whatever is configured', () => {
    const xml = signedPaymentNotify({}, { apiKey: KEY, signType: 'HMAC-SHA256', includeSignType: true });
    expect(xml).toContain('<sign_type><![CDATA[HMAC-SHA256]]></sign_type>');
    expect(parsePaymentNotify(xml, { apiKey: KEY, signType: 'MD5' }).sign_type).toBe('HMAC-SHA256');
  });
  it('verifies unknown extra fields WeChat may add', () => {
    const xml = signedPaymentNotify({ coupon_type_0: 'CASH', promotion_detail: '[]' }, { apiKey: KEY });
    expect(parsePaymentNotify(xml, { apiKey: KEY, signType: 'MD5' }).coupon_type_0).toBe('CASH');
  });
  it('rejects a forged amount, a wrong key, and a missing sign', () => {
    const xml = signedPaymentNotify({ total_fee: '1' }, { apiKey: KEY });
    const forged = xml.replace('<total_fee>1</total_fee>', '<total_fee>100</total_fee>');
    expect(forged).not.toBe(xml);
    expect(() => parsePaymentNotify(forged, { apiKey: KEY, signType: 'MD5' })).toThrow(expect.objectContaining({ name: 'WechatPaySignatureError', code: 'BAD_SIGN' }));
    expect(() => parsePaymentNotify(xml, { apiKey: 'k'.repeat(32), signType: 'MD5' })).toThrow(WechatPaySignatureError);
    const unsigned = buildXml(Object.fromEntries(Object.entries(parseXml(xml)).filter(([k]) => k !== 'sign')));
    expect(() => parsePaymentNotify(unsigned, { apiKey: KEY, signType: 'MD5' })).toThrow(expect.objectContaining({ code: 'MISSING_SIGN' }));
  });
  it('refuses DOCTYPE and oversized bodies before verifying', () => {
    const xml = signedPaymentNotify({}, { apiKey: KEY });
    expect(() => parsePaymentNotify(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${xml}`, { apiKey: KEY, signType: 'MD5' })).toThrow(WechatPayXmlError);
    expect(() => parsePaymentNotify(xml, { apiKey: KEY, signType: 'MD5', maxBytes: 100 })).toThrow(expect.objectContaining({ code: 'XML_TOO_LARGE' }));
  });
  it('a correctly signed notify lacking payment fields is refused', () => {
    const fields = { return_code: 'SUCCESS', appid: ids.appId, mch_id: ids.mchId, result_code: 'SUCCESS', out_trade_no: 'P123456' };
    const xml = buildXml({ ...fields, sign: sign(fields, KEY) });
    expect(() => parsePaymentNotify(xml, { apiKey: KEY, signType: 'MD5' })).toThrow(expect.objectContaining({ code: 'NOTIFY_FIELDS', message: expect.stringContaining('transaction_id') }));
  });
});

describe('parseRefundNotify', () => {
  it('decrypts the documented req_info inside an outer notify', () => {
    const REQ_INFO = 'WBzGpzQuNpcFxIlFjUUD9BZv+lpBMzd2SHiKCkwfALWid5G8ZvfOussfMIHLbKJmcnxPKdb1ZJEqTAp8ysQv+xa1fj+Eorgndx3fNxf3KAYa3LPgsjvZgxaeYyrhV05Kbjkj6ywg27cEyTTaPZFYNg==';
    const body = buildXml({ return_code: 'SUCCESS', appid: ids.appId, mch_id: ids.mchId, nonce_str: 'n', req_info: REQ_INFO });
    const { outer, info } = parseRefundNotify(body, { apiKey: KEY });
    expect(outer.mch_id).toBe('10000100');
    expect(info).toEqual({ out_refund_no: 'R1', refund_status: 'SUCCESS' });
  });
  it('round trips the fixture with defaults and overrides', () => {
    const body = encryptedRefundNotify({ out_refund_no: 'R2026X', refund_fee: '50', total_fee: '100', refund_status: 'CHANGE' }, ids);
    const { outer, info } = parseRefundNotify(body, { apiKey: KEY });
    expect(outer).toMatchObject({ return_code: 'SUCCESS', appid: ids.appId, mch_id: ids.mchId });
    expect(info).toMatchObject({ out_refund_no: 'R2026X', refund_fee: '50', total_fee: '100', refund_status: 'CHANGE', refund_recv_accout: '支付用户的零钱' });
    expect(info.success_time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });
  it('fails clearly on a wrong key, a missing req_info, FAIL, or a plaintext that is not <root>', () => {
    const body = encryptedRefundNotify({}, ids);
    expect(() => parseRefundNotify(body, { apiKey: 'k'.repeat(32) })).toThrow(WechatPayDecryptError);
    expect(() => parseRefundNotify(buildXml({ return_code: 'SUCCESS' }), { apiKey: KEY })).toThrow(expect.objectContaining({ code: 'MISSING_REQ_INFO' }));
    expect(() => parseRefundNotify(buildXml({ return_code: 'FAIL', return_msg: 'x' }), { apiKey: KEY })).toThrow(expect.objectContaining({ code: 'RETURN_FAIL' }));
    const notRoot = buildXml({ return_code: 'SUCCESS', req_info: encryptReqInfo('<xml><a>1</a></xml>', KEY) });
    expect(() => parseRefundNotify(notRoot, { apiKey: KEY })).toThrow(WechatPayDecryptError);
    const doctype = buildXml({ return_code: 'SUCCESS', req_info: encryptReqInfo('<!DOCTYPE r><root><out_refund_no>R</out_refund_no><refund_status>SUCCESS</refund_status></root>', KEY) });
    expect(() => parseRefundNotify(doctype, { apiKey: KEY })).toThrow(WechatPayDecryptError);
  });
});

describe('notify replies', () => {
  it('SUCCESS is exactly the documented XML', () => {
    expect(NOTIFY_SUCCESS_XML).toBe('<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>');
  });
  it('FAIL carries the message', () => {
    expect(notifyFailXml('签名失败')).toBe('<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[签名失败]]></return_msg></xml>');
    expect(parseXml(notifyFailXml(''))).toEqual({ return_code: 'FAIL', return_msg: 'FAIL' });
  });
});
