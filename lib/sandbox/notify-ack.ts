import { parseXml } from '../wechatpay/xml';

/**
 * Whether a merchant's answer to a notify acknowledges it, read as strictly as WeChat reads it, so code
 * that passes here is not retried for hours live.
 *
 * v2: HTTP 200 and a body that is the XML WeChat documents, root `<xml>`, whose `return_code` is exactly
 * `SUCCESS` (CDATA or not, an XML declaration and whitespace between elements allowed; `return_msg`
 * optional). Everything else is a refusal WeChat retries: plain `success` or `SUCCESS` text, JSON,
 * lower-case `success` inside the XML, the XML wrapped in quotes (what a framework's JSON serialiser makes
 * of a returned string), the XML after or before other output (a PHP notice), an HTML page, a duplicated
 * `return_code`, a value with spaces, an HTTP status other than 200. WeChat Pay's own answer in its
 * community: "当返回内容不是XML格式的SUCCESS时，微信侧会认为商户侧没有收到或者处理通知，所以会重推回调通知"
 * (developers.weixin.qq.com/community/pay/doc/0004c8304880a08cd3eab3b205b800), and "严格按照文档要求正确
 * 返回参数SUCCESS，包括标签之类的" (community/develop/doc/00022c52928940f2e16991cc756400).
 *
 * v3: HTTP 200 or 204, whatever the body ("接收成功：HTTP应答状态码需返回200或204，无需返回应答报文");
 * any other status is a refusal.
 */
export function notifyAcknowledged(status: number, reply: string, v3: boolean): boolean {
  if (v3) return status === 200 || status === 204;
  if (status !== 200) return false;
  try {
    return parseXml(reply).return_code === 'SUCCESS';
  } catch {
    return false;
  }
}
