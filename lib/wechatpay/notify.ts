import { decryptReqInfo } from './crypto';
import { WechatPayCommunicationError, WechatPayDecryptError, WechatPayError, WechatPaySignatureError } from './errors';
import { type SignType, verify } from './sign';
import type { WxPaymentFields, WxRefundReqInfo } from './types';
import { buildXml, parseXml } from './xml';

/**
 * The one acknowledgement WeChat accepts (HTTP 200): anything else, even plain `success`, makes it retry.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
export const NOTIFY_SUCCESS_XML = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';

/** A FAIL acknowledgement: WeChat will deliver the notify again on its retry schedule. */
export function notifyFailXml(message: string): string {
  return buildXml({ return_code: 'FAIL', return_msg: message.trim() === '' ? 'FAIL' : message });
}

/**
 * Parses and verifies a payment notify (the raw body, before anything else reads it). Refuses DOCTYPE,
 * ENTITY and oversized bodies (parseXml), then verifies `sign` over every received field with the
 * payload's sign_type, else `opts.signType` (WeChat omits sign_type: an HMAC merchant must pass its type).
 * Does NOT check appid, mch_id or total_fee against the order: the caller does, it knows the order.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
export function parsePaymentNotify(body: string | Buffer, opts: { apiKey: string; signType: SignType; maxBytes?: number }): WxPaymentFields {
  const fields = parseXml(body, { maxBytes: opts.maxBytes });
  if (!fields.sign) throw new WechatPaySignatureError('payment notify has no sign', { code: 'MISSING_SIGN', raw: fields });
  if (!verify(fields, opts.apiKey, opts.signType)) {
    throw new WechatPaySignatureError(`payment notify sign does not verify (sign_type ${fields.sign_type ?? `absent, used ${opts.signType}`})`, { code: 'BAD_SIGN', raw: fields });
  }
  if (fields.return_code !== 'SUCCESS') {
    throw new WechatPayCommunicationError(`payment notify return_code ${fields.return_code ?? '(missing)'}: ${fields.return_msg ?? ''}`.trim(), { code: 'RETURN_FAIL', raw: fields });
  }
  const need = fields.result_code === 'SUCCESS' ? ['appid', 'mch_id', 'out_trade_no', 'transaction_id', 'total_fee'] : ['appid', 'mch_id', 'out_trade_no'];
  const missing = need.filter((k) => !fields[k]);
  if (missing.length) throw new WechatPayError(`payment notify lacks ${missing.join(', ')}`, { code: 'NOTIFY_FIELDS', raw: fields });
  if (fields.total_fee !== undefined && !/^\d+$/.test(fields.total_fee)) {
    throw new WechatPayError(`payment notify total_fee "${fields.total_fee}" is not integer fen`, { code: 'NOTIFY_FIELDS', raw: fields });
  }
  return fields as WxPaymentFields;
}

/**
 * Parses a refund notify: the outer XML is unsigned; its `req_info` is AES-256-ECB encrypted with
 * md5(API key), which is what authenticates it. Returns the outer fields and the decrypted `<root>`.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
 */
export function parseRefundNotify(body: string | Buffer, opts: { apiKey: string; maxBytes?: number }): { outer: Record<string, string>; info: WxRefundReqInfo } {
  const outer = parseXml(body, { maxBytes: opts.maxBytes });
  if (outer.return_code !== 'SUCCESS') {
    throw new WechatPayCommunicationError(`refund notify return_code ${outer.return_code ?? '(missing)'}: ${outer.return_msg ?? ''}`.trim(), { code: 'RETURN_FAIL', raw: outer });
  }
  if (!outer.req_info) throw new WechatPayDecryptError('refund notify has no req_info', { code: 'MISSING_REQ_INFO', raw: outer });
  const plain = decryptReqInfo(outer.req_info, opts.apiKey);
  let info: Record<string, string>;
  try {
    info = parseXml(plain, { rootName: 'root', maxBytes: opts.maxBytes });
  } catch (e) {
    throw new WechatPayDecryptError('refund notify req_info decrypts to something that is not <root> XML', { code: 'DECRYPT_FAILED', raw: outer, cause: e });
  }
  const missing = ['out_refund_no', 'refund_status'].filter((k) => !info[k]);
  if (missing.length) throw new WechatPayError(`refund notify req_info lacks ${missing.join(', ')}`, { code: 'NOTIFY_FIELDS', raw: info });
  return { outer, info: info as WxRefundReqInfo };
}
