import { describe, expect, it } from 'vitest';
import { noAuth } from '@/lib/checkout/gateway';
import { WechatPayApiError, WechatPayCommunicationError, WechatPayRequestError } from '@/lib/wechatpay/errors';

/*
 * Which refusals mean "this merchant may not use the product" (for MWEB: no H5 permission), so the checkout
 * falls back to open-in-WeChat + QR. Two shapes reach us from v2:
 *  - the documented one, signed result_code=FAIL err_code=NOAUTH 商户无此接口权限 (unifiedorder's error table),
 *    which placeOrder renames NO_AUTH like v3's 403 NO_AUTH;
 *  - the one merchants actually meet live, unsigned return_code=FAIL with return_msg
 *    商户号该产品权限未开通，请前往商户平台>产品中心检查后重试 (found with `search`: lokielse/omnipay-wechatpay#71
 *    quotes `{"return_code":"FAIL","return_msg":"商户号该产品权限未开通，请前往商户平台>产品中心检查后重试"}`,
 *    befinal/node-tenpay#49 the same text), or 商户号该产品权限预开通中 while the product is still being opened.
 */
describe('noAuth', () => {
  const returnFail = (msg: string) => new WechatPayRequestError(`unifiedorder: return_code FAIL: ${msg}`, { returnMsg: msg });

  it('the signed err_code form (as placeOrder and v3 hand it on): NO_AUTH', () => {
    expect(noAuth(new WechatPayApiError('商户无此接口权限', { code: 'NO_AUTH', errCodeDes: '商户无此接口权限' }))).toBe(true);
  });
  it('the unsigned return_code=FAIL form, both wordings and either comma', () => {
    expect(noAuth(returnFail('商户号该产品权限未开通，请前往商户平台>产品中心检查后重试'))).toBe(true);
    expect(noAuth(returnFail('商户号该产品权限未开通,请前往商户平台>产品中心检查后重试'))).toBe(true);
    expect(noAuth(returnFail('商户号该产品权限预开通中，请前往商户平台>产品中心检查后重试'))).toBe(true);
  });
  it('any other refusal is not a missing permission', () => {
    expect(noAuth(returnFail('系统错误稍后再试'))).toBe(false);
    expect(noAuth(returnFail('签名错误'))).toBe(false);
    expect(noAuth(returnFail('缺少参数scene_info'))).toBe(false);
    expect(noAuth(new WechatPayApiError('该订单已支付', { code: 'ORDERPAID' }))).toBe(false);
    // The raw v2 word before placeOrder renames it: only the renamed one counts, so callers go through placeOrder.
    expect(noAuth(new WechatPayApiError('商户无此接口权限', { code: 'NOAUTH' }))).toBe(false);
    expect(noAuth(new WechatPayCommunicationError('return_code FAIL', { code: 'RETURN_FAIL' }))).toBe(false);
    expect(noAuth(new Error('产品权限未开通'))).toBe(false);
  });
});
