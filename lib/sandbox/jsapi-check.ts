import { verifyJsapiParams } from '../wechatpay/jsapi';
import { isSignType } from '../wechatpay/sign';
import { verifyJsapiParamsV3 } from '../wechatpay/v3/jsapi';
import { envMerchant, merchantByAppId, type SandboxMerchant } from './merchants';
import { v3IdentityOf } from './v3/identity';
import { sandboxDb } from './db';
import { type PayOutcome, payOrder, unpayableReason } from './payer';
import type { SandboxOrder } from './orders';
import { type PageUrls, payDirectoryRefusal } from './pay-directory';
import { ensureOpenid, type SandboxUser } from './users';

const NAMES = ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'] as const;

export type JsapiCheck = { ok: true; order: SandboxOrder; merchantName: string } | { ok: false; reason: string };

/** The merchant name the payment sheet shows. */
export function merchantName(m: SandboxMerchant = envMerchant()): string {
  return m.name;
}

/** Where getBrandWCPayRequest was called from: the page's URLs (null when unknown) and the client's user agent. */
export interface JsapiPage {
  urls: PageUrls | null;
  userAgent: string | null;
}

/**
 * The page's URLs as the bridge reports them (x-sandbox-page-url, x-sandbox-landing-url), else the
 * Referer (the page that made the request) for both; null when none is there.
 */
export function jsapiPageOf(headers: Headers): JsapiPage {
  const current = headers.get('x-sandbox-page-url') ?? headers.get('referer');
  const landing = headers.get('x-sandbox-landing-url') ?? current;
  return { urls: current && landing ? { current, landing } : null, userAgent: headers.get('user-agent') };
}

/**
 * What the WeChat client checks before showing the payment sheet for getBrandWCPayRequest: the page
 * under one of the merchant's registered JSAPI payment directories (./pay-directory.ts; the merchant
 * whose official account appId names, else the checkout's own), exact parameter names and casing,
 * appId, a signType equal to the order's, a valid paySign (that merchant's key), and a live prepay_id
 * of that merchant's JSAPI order belonging to this WeChat user.
 */
export async function checkJsapiParams(raw: unknown, user: SandboxUser, page: JsapiPage): Promise<JsapiCheck> {
  if (!page.urls) return { ok: false, reason: '当前页面的URL未注册：无法确定发起支付的页面（bridge.js 会带上页面 URL）' };
  const claimed = typeof raw === 'object' && raw !== null && typeof (raw as { appId?: unknown }).appId === 'string' ? (raw as { appId: string }).appId : '';
  const merchant = (claimed ? await merchantByAppId(claimed) : undefined) ?? envMerchant();
  const refused = payDirectoryRefusal(page.urls, page.userAgent, merchant.payDirectories);
  if (refused) return { ok: false, reason: refused };
  if (typeof raw !== 'object' || raw === null) return { ok: false, reason: '参数必须是对象' };
  const p = raw as Record<string, unknown>;
  for (const n of NAMES) {
    if (typeof p[n] !== 'string' || p[n] === '') {
      const near = Object.keys(p).find((k) => k.toLowerCase() === n.toLowerCase() && k !== n);
      return { ok: false, reason: near ? `缺少参数 ${n}（收到 ${near}：参数名区分大小写）` : `缺少参数 ${n}` };
    }
  }
  const s = p as Record<(typeof NAMES)[number], string>;
  if (s.appId !== merchant.appId) return { ok: false, reason: `appId 不一致：${s.appId}（商户公众号为 ${merchant.appId}）` };
  if (!/^\d{1,12}$/.test(s.timeStamp)) return { ok: false, reason: 'timeStamp 必须是Unix秒数的字符串' };
  if (s.nonceStr.length > 32) return { ok: false, reason: 'nonceStr 最长32位' };
  if (!isSignType(s.signType) && s.signType !== 'RSA') return { ok: false, reason: `signType 只能是 MD5、HMAC-SHA256 或 RSA（v3），收到 ${s.signType}` };
  const m = /^prepay_id=(.+)$/.exec(s.package);
  if (!m) return { ok: false, reason: 'package 必须是 prepay_id=...' };
  // The one paySign rule, shared with the merchant side that signs (lib/wechatpay/jsapi.ts).
  // v3 (signType RSA): paySign verifies with the sandbox merchant's public key over appId\ntimeStamp\nnonceStr\npackage\n.
  const signed = s.signType === 'RSA' ? verifyJsapiParamsV3(s, (await v3IdentityOf(merchant)).merchantPublicKey) : verifyJsapiParams(s, merchant.apiKey);
  if (!signed) return { ok: false, reason: 'paySign 签名错误' };
  const db = await sandboxDb();
  const order = await db.selectFrom('sandbox_orders').selectAll().where('prepay_id', '=', m[1]).executeTakeFirst();
  if (!order || order.mch_id !== merchant.mchId) return { ok: false, reason: 'prepay_id 不存在' };
  if (order.trade_type !== 'JSAPI') return { ok: false, reason: `该 prepay_id 属于 ${order.trade_type} 订单，不能在公众号内支付` };
  if (order.sign_type !== s.signType) return { ok: false, reason: `signType 与下单时不一致（下单用 ${order.sign_type}）` };
  const mine = await ensureOpenid(db, user.id, merchant.appId);
  if (order.openid !== mine) return { ok: false, reason: '该订单属于另一个微信用户（openid与当前用户不一致）' };
  const refuse = unpayableReason(order);
  if (refuse) return { ok: false, reason: refuse.message };
  return { ok: true, order, merchantName: merchantName(merchant) };
}

/** The sheet's Pay button: the same checks again, then the same code path as /sandbox/sim/pay. */
export async function payFromSheet(raw: unknown, user: SandboxUser, page: JsapiPage): Promise<PayOutcome> {
  const c = await checkJsapiParams(raw, user, page);
  if (!c.ok) return { ok: false, status: 400, code: 'JSAPI_CHECK', message: c.reason };
  return payOrder(c.order, 'SUCCESS', c.order.openid ?? undefined);
}
