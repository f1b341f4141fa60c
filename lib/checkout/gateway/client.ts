import { readFileSync } from 'node:fs';
import { getConfig } from '../../config';
import { WechatPayClient } from '../../wechatpay/client';

const key = Symbol.for('wechat-checkout.pay-client');
type Holder = { [key]?: WechatPayClient };

/** The process's WeChat Pay client, built once from the configuration (the sandbox's URL in sandbox mode). */
export function getPayClient(): WechatPayClient {
  const g = globalThis as Holder;
  if (g[key]) return g[key];
  const c = getConfig();
  g[key] = new WechatPayClient({
    appId: c.appId,
    mchId: c.mchId,
    apiKey: c.apiKey,
    signType: c.signType,
    baseUrl: c.mchBaseUrl,
    pfx: c.certP12Path ? readFileSync(c.certP12Path) : undefined,
    passphrase: c.mchId,
  });
  return g[key];
}
