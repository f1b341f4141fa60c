import { describe, expect, it } from 'vitest';
import { outcomeUnknown } from '@/lib/checkout/gateway';
import {
  WechatPayApiError, WechatPayCommunicationError, WechatPayError, WechatPaySignatureError, WechatPayTimeoutError, WechatPayXmlError,
} from '@/lib/wechatpay/errors';

/** Which failed calls may have been done by WeChat anyway (so a unifiedorder is kept for re-submission). */
describe('outcomeUnknown', () => {
  it('no answer, or one that cannot be read or trusted: unknown', () => {
    expect(outcomeUnknown(new WechatPayTimeoutError('unifiedorder: no answer within 5000 ms', { code: 'TIMEOUT' }))).toBe(true);
    expect(outcomeUnknown(new WechatPayCommunicationError('fetch failed: other side closed', { code: 'NETWORK' }))).toBe(true);
    expect(outcomeUnknown(new WechatPayCommunicationError('not v2 XML', { code: 'BAD_RESPONSE' }))).toBe(true);
    expect(outcomeUnknown(new WechatPaySignatureError('sign does not verify', { code: 'BAD_SIGN' }))).toBe(true);
  });
  it('an answer WeChat sent: known not done', () => {
    expect(outcomeUnknown(new WechatPayApiError('SYSTEMERROR', { code: 'SYSTEMERROR' }))).toBe(false);
    expect(outcomeUnknown(new WechatPayApiError('INVALID_REQUEST', { code: 'INVALID_REQUEST' }))).toBe(false);
    expect(outcomeUnknown(new WechatPayCommunicationError('HTTP 500', { code: 'HTTP_ERROR', statusCode: 500 }))).toBe(false);
    expect(outcomeUnknown(new WechatPayCommunicationError('return_code FAIL', { code: 'RETURN_FAIL' }))).toBe(false);
    expect(outcomeUnknown(new WechatPayCommunicationError('TLS', { code: 'TLS_FAILED' }))).toBe(false);
    expect(outcomeUnknown(new WechatPayXmlError('DOCTYPE', { code: 'XML_DOCTYPE' }))).toBe(false);
    expect(outcomeUnknown(new WechatPayError('bad input', { code: 'INVALID_ARGUMENT' }))).toBe(false);
    expect(outcomeUnknown(new Error('bug'))).toBe(false);
  });
});
