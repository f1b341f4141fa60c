import { readFileSync } from 'node:fs';
import { getConfig } from '../../config';
import { log } from '../../log';
import { metrics } from '../../metrics';
import { WechatPayClient, type WechatPayCallRecord } from '../../wechatpay/client';

const key = Symbol.for('wechat-checkout.pay-client');
type Holder = { [key]?: WechatPayClient };

/**
 * The process's WeChat Pay v2 client, built once from the configuration (the sandbox's URL in sandbox
 * mode). An API v3 checkout without a v2 key has none: asking for it is a configuration error, never a
 * call signed with an empty key.
 */
export function getPayClient(): WechatPayClient {
  const g = globalThis as Holder;
  if (g[key]) return g[key];
  const c = getConfig();
  if (!c.apiKey) throw new Error('WECHATPAY_API_KEY is not set: this API v3 checkout cannot make a v2 call (set the v2 key, or keep WECHATPAY_API_VERSION=v3)');
  g[key] = new WechatPayClient({
    appId: c.appId,
    mchId: c.mchId,
    apiKey: c.apiKey,
    signType: c.signType,
    baseUrl: c.mchBaseUrl,
    pfx: c.certP12Path ? readFileSync(c.certP12Path) : undefined,
    passphrase: c.mchId,
    onCall: observeCall,
  });
  return g[key];
}

/** Every WeChat Pay call counted by api and result, timed, and logged (debug when it succeeded). */
function observeCall(call: WechatPayCallRecord): void {
  const m = metrics();
  m.wechatCalls.inc({ api: call.api, result: call.result });
  m.wechatDuration.observe({ api: call.api }, call.durationMs / 1000);
  const line = { event: 'wechat_call', api: call.api, outcome: call.result, code: call.code, duration_ms: Math.round(call.durationMs) };
  // A signed FAIL (ORDERPAID on a close, REFUNDNOTEXIST) is an answer the caller handles; no answer is worth a warning.
  if (call.result === 'success') log().debug(line, `wechat ${call.api}`);
  else if (call.result === 'fail') log().info(line, `wechat ${call.api}: ${call.code}`);
  else log().warn(line, `wechat ${call.api}: ${call.code}`);
}
