import { createVerify } from 'node:crypto';
import { parseAuthorization, requestMessage } from '../../wechatpay/v3/sign';
import { type V3Identity, v3IdentityFor } from './identity';
import { v3Error, type V3Reply } from './reply';

/** WeChat's message for a request whose signature does not verify (docs/wechatpay-v3.md §1). */
export const SIGN_ERROR_MESSAGE = '签名错误,请检查后再试';
const MAX_SKEW_S = 300;

/** The path prefix the sandbox serves WeChat Pay under; WeChat's own URLs start at /v3/. */
const PREFIX = '/sandbox/mch';

/** Certificate serials compared as the numbers they are: an SDK reading one from a certificate drops leading zeros. */
const serialOf = (s: string) => s.toUpperCase().replace(/^0+/, '');

/**
 * WeChat's side of a v3 request's Authorization: the header must parse and name a merchant the sandbox
 * knows (its mchid; MCH_NOT_EXISTS otherwise), that merchant's certificate serial, a timestamp within 5
 * minutes, and its signature must verify with that merchant's public key over
 * METHOD\nURL\ntimestamp\nnonce\nbody\n. The URL is the path plus query as received, or the same
 * without the sandbox's /sandbox/mch prefix: the URL the call has at api.mch.weixin.qq.com, which is
 * what an SDK configured with a base URL signs. A bad signature is 401 SIGN_ERROR with the detail shape
 * WeChat answers (detail.detail.issue, field, location, sign_information with a truncated message) so
 * SDK users can compare. `{identity}` when the request is that merchant's.
 */
export async function checkAuthorization(method: string, url: string, header: string | null, body: string): Promise<{ refused: V3Reply } | { identity: V3Identity }> {
  const a = parseAuthorization(header);
  if (!a) return { refused: v3Error(401, 'SIGN_ERROR', 'Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》', { field: 'authorization', location: 'header' }) };
  const id = await v3IdentityFor(a.mchid);
  if (!id || !a.mchid) return { refused: v3Error(400, 'MCH_NOT_EXISTS', '商户号不存在', { field: 'mchid', location: 'authorization', value: a.mchid }) };
  if (serialOf(a.serialNo) !== serialOf(id.raw.serial_no)) {
    return { refused: v3Error(401, 'SIGN_ERROR', '商户证书序列号有误。请使用签名私钥匹配的证书序列号', { field: 'serial_no', location: 'authorization', value: a.serialNo }) };
  }
  if (!/^\d{1,12}$/.test(a.timestamp) || Math.abs(Date.now() / 1000 - Number(a.timestamp)) > MAX_SKEW_S) {
    return { refused: v3Error(401, 'SIGN_ERROR', '请求时间戳与当前时间相差过大，请检查服务器时间', { field: 'timestamp', location: 'authorization', value: a.timestamp }) };
  }
  const urls = url.startsWith(`${PREFIX}/`) ? [url, url.slice(PREFIX.length)] : [url];
  for (const u of urls) {
    const message = requestMessage(method, u, a.timestamp, a.nonce, body);
    let ok = false;
    try {
      ok = createVerify('RSA-SHA256').update(message, 'utf8').verify(id.merchantPublicKey, a.signature, 'base64');
    } catch {
      ok = false;
    }
    if (ok) return { identity: id };
  }
  const message = requestMessage(method, url, a.timestamp, a.nonce, body);
  return {
    refused: v3Error(401, 'SIGN_ERROR', SIGN_ERROR_MESSAGE, {
      detail: { issue: 'sign not match' },
      field: 'signature',
      location: 'authorization',
      sign_information: { method, sign_message_length: Buffer.byteLength(message, 'utf8'), truncated_sign_message: truncate(message), url },
    }),
  };
}

/** WeChat shows the first part of the message it computed: enough to spot a wrong URL or body. */
function truncate(message: string): string {
  const lines = message.split('\n');
  const body = lines.slice(4, -1).join('\n');
  return `${lines.slice(0, 4).join('\n')}\n${body.slice(0, 4)}\n`;
}
