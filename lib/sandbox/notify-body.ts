import { encryptReqInfo } from '../wechatpay/crypto';
import { isSignType, nonceStr, sign, type WxFields } from '../wechatpay/sign';
import { formatWxDateTime } from '../wechatpay/time';
import { buildXml } from '../wechatpay/xml';
import { paymentFields, type SandboxOrder } from './orders';
import type { SandboxRefundsTable } from './schema';

/**
 * The payment notify: the full field set, signed with the merchant's key (`apiKey`) and the order's
 * sign_type but carrying no sign_type field, as WeChat does (an HMAC merchant must verify with its configured type).
 */
export function paymentNotifyXml(o: SandboxOrder, apiKey: string): string {
  const fields: WxFields = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: o.appid,
    mch_id: o.mch_id,
    nonce_str: nonceStr(),
    result_code: 'SUCCESS',
    ...paymentFields(o),
  };
  fields.sign = sign(fields, apiKey, isSignType(o.sign_type) ? o.sign_type : 'MD5');
  return buildXml(fields);
}

/** The refund notify: outer fields in clear, the refund itself in req_info (AES-256-ECB, key md5 of the merchant's API key). */
export function refundNotifyXml(r: SandboxRefundsTable, o: SandboxOrder, apiKey: string): string {
  const inner: WxFields = {
    transaction_id: o.transaction_id ?? undefined,
    out_trade_no: o.out_trade_no,
    refund_id: r.refund_id,
    out_refund_no: r.out_refund_no,
    total_fee: String(o.total_fee),
    settlement_total_fee: String(o.total_fee),
    refund_fee: String(r.refund_fee),
    settlement_refund_fee: String(r.refund_fee),
    refund_status: r.status,
    success_time: r.success_at ? formatWxDateTime(Date.parse(r.success_at)) : undefined,
    refund_recv_accout: '支付用户的零钱',
    refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
    refund_request_source: 'API',
  };
  const plain = buildXml(inner).replace(/^<xml>/, '<root>').replace(/<\/xml>$/, '</root>');
  return buildXml({
    return_code: 'SUCCESS',
    appid: o.appid,
    mch_id: o.mch_id,
    nonce_str: nonceStr(),
    req_info: encryptReqInfo(plain, apiKey),
  });
}
