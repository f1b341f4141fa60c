import { getConfig } from '../config';
import { isSignType, safeEqual, sign } from '../wechatpay/sign';
import { parseXml } from '../wechatpay/xml';
import { downloadBill } from './bill';
import { type FaultApi, REFUND_ERRORS, takeApiFaults } from './faults';
import { unknownField } from './fields';
import { findMerchant, merchantByAppId } from './merchants';
import { type MchCtx, type MchReply, errReply, failReply, unknownMerchantReply } from './reply';
import { refund, refundQuery } from './refund';
import { recordRefusal } from './requests';
import { diagnoseSignature, type SignDiagnosis } from './sigdebug';
import { closeOrder, orderQuery } from './trade';
import { unifiedOrder } from './unifiedorder';

/** WeChat's transient return_code=FAIL text: the same request may succeed when sent again. */
export const TRANSIENT_RETURN_MSG = '系统错误稍后再试';

const HANDLERS: Record<FaultApi, (ctx: MchCtx) => Promise<MchReply>> = {
  unifiedorder: unifiedOrder,
  orderquery: orderQuery,
  closeorder: closeOrder,
  refund,
  refundquery: refundQuery,
  downloadbill: downloadBill,
};

/** True for the API names the sandbox serves under /sandbox/mch (the keys of its handler table). */
export function isMchApi(api: string): api is FaultApi {
  return Object.prototype.hasOwnProperty.call(HANDLERS, api);
}

/**
 * WeChat Pay's side of one v2 call: faults first (as the network would), then transport checks
 * (POST, non-empty, XML without DOCTYPE), the merchant mch_id names (MCHID_NOT_EXIST when none), the
 * signature with that merchant's key for the request's sign_type (return_code FAIL 签名错误
 * otherwise), its appid, then the API itself, answered for and signed as that merchant.
 * Every return_code=FAIL refusal is recorded for the dashboard, a 签名错误 with the signature
 * debugger's diagnosis (lib/sandbox/sigdebug.ts); the wire answer stays WeChat's bare one. A
 * DROP_RESPONSE fault marks the reply `dropped` after the API has done (and committed) its work.
 */
export async function handleMchApi(api: FaultApi, method: string, raw: Buffer): Promise<MchReply> {
  const config = getConfig();
  const fault = takeApiFaults(api);
  if (fault.delayMs > 0) await new Promise((r) => setTimeout(r, fault.delayMs));
  if (fault.failure === 'HTTP500') {
    return { status: 500, contentType: 'text/html; charset=utf-8', body: '<html><body><h1>500 Internal Server Error</h1></body></html>' };
  }
  // Unsigned and before any check, as a busy WeChat answers; not recorded (it is no fault of the request).
  if (fault.failure === 'RETURN_SYSTEMERROR') return failReply(TRANSIENT_RETURN_MSG);
  if (method !== 'POST') return refuse(api, '请使用post方法');
  if (raw.length === 0) return refuse(api, 'post数据为空');
  let fields: Record<string, string>;
  try {
    fields = parseXml(raw);
  } catch {
    return refuse(api, 'XML格式错误');
  }
  const st = fields.sign_type || 'MD5';
  if (!isSignType(st)) return refuse(api, 'sign_type参数错误');
  // Whose key checks the signature: the merchant mch_id names. Without one there is no key to check with.
  if (!fields.mch_id) return refuse(api, '缺少参数mch_id');
  const merchant = await findMerchant(fields.mch_id);
  if (!merchant) {
    await recordRefusal(api, 'MCHID_NOT_EXIST 商户号不存在');
    return unknownMerchantReply();
  }
  // The sign is compared exactly: WeChat's rule makes it upper-case hex ("再将得到的字符串所有字符转换为
  // 大写", chapter 4_3). Whether live WeChat also takes lower case is UNVERIFIED; refusing it is the
  // conservative choice (docs/sandbox.md), and the debugger names it.
  if (!safeEqual(sign(fields, merchant.apiKey, st), fields.sign ?? '')) {
    return refuse(api, '签名错误', diagnoseSignature(fields, merchant.apiKey, st));
  }
  const ctx: MchCtx = { fields, signType: st, merchant, config };
  if (fault.failure === 'SYSTEMERROR') return errReply(ctx, 'SYSTEMERROR', '系统超时');
  // FREQUENCY_LIMITED on any other API is WeChat's plain rate refusal; on refund it has the refund's text.
  if (fault.failure === 'FREQUENCY_LIMITED' && api !== 'refund') return errReply(ctx, 'FREQUENCY_LIMITED', '频率限制');
  const refundError = fault.failure ? REFUND_ERRORS[fault.failure] : undefined;
  if (fault.failure && refundError) return errReply(ctx, fault.failure, refundError);
  const unknown = unknownField(api, fields);
  if (unknown) return refuse(api, `不识别的参数${unknown}`);
  if (!fields.appid) return refuse(api, '缺少参数appid');
  if (fields.appid !== merchant.appId) {
    // Another merchant's official account is WeChat's APPID_MCHID_NOT_MATCH; one nobody has, APPID_NOT_EXIST.
    return (await merchantByAppId(fields.appid)) ? errReply(ctx, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配') : errReply(ctx, 'APPID_NOT_EXIST', 'appid不存在');
  }
  if (!fields.nonce_str) return refuse(api, '缺少参数nonce_str');
  if (fields.nonce_str.length > 32) return refuse(api, 'nonce_str参数长度有误');
  const reply = await HANDLERS[api](ctx);
  // A parameter refusal (return_code=FAIL from the API's own checks) is shown on the dashboard like the rest.
  if (reply.refusal !== undefined) await recordRefusal(api, reply.refusal);
  return fault.dropResponse ? { ...reply, dropped: true } : reply;
}

/** A return_code=FAIL answer (unsigned, as WeChat's), recorded for the dashboard first. */
export async function refuse(api: string, returnMsg: string, diag?: SignDiagnosis): Promise<MchReply> {
  await recordRefusal(api, returnMsg, diag);
  return failReply(returnMsg);
}
