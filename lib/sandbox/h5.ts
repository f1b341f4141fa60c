import { randomInt } from 'node:crypto';
import { getConfig } from '../config';
import { nowIso } from '../db';
import { type SandboxDb, sandboxDb } from './db';
import type { SandboxMerchant } from './merchants';
import type { SandboxOrder } from './orders';

/*
 * WeChat's side of H5 payment (MWEB): the mweb_url it hands out, the permission a merchant may lack,
 * and the checks its H5 cashier page (wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb, here
 * /sandbox/h5pay) makes before it opens WeChat. The cashier's error texts are WeChat's own, as its H5
 * guide lists them (https://pay.weixin.qq.com/wiki/doc/api/H5.php?chapter=15_4, 常见错误, quoted by
 * merchants' integration notes found with `search`):
 *  - 商家参数格式有误，请联系商家解决: the Referer is empty (the URL was opened directly, not by a page);
 *  - 商家存在未配置的参数，请联系商家解决: the Referer's domain (or redirect_url's) is not the merchant's
 *    registered H5 domain (H5支付域名);
 *  - 支付请求已失效，请重新发起支付: the mweb_url is older than 5 minutes;
 *  - 请在微信外打开订单，进行支付: opened inside WeChat, where H5 payment cannot run.
 */

/** How long the cashier honours an mweb_url (mweb_url的有效期为5分钟). */
export const MWEB_URL_TTL_MS = 5 * 60_000;

/** WeChat's cashier errors, by what went wrong. */
export const H5_ERRORS = {
  NO_REFERER: '商家参数格式有误，请联系商家解决',
  DOMAIN: '商家存在未配置的参数，请联系商家解决',
  EXPIRED: '支付请求已失效，请重新发起支付',
  IN_WECHAT: '请在微信外打开订单，进行支付',
} as const;
export type H5ErrorCode = keyof typeof H5_ERRORS;

/** v2 unifiedorder's documented answer to a merchant without H5 permission (the error table: NOAUTH 商户无此接口权限); the `NOAUTH` refusal form. */
export const V2_NOAUTH_DES = '商户无此接口权限';
/**
 * What live v2 unifiedorder actually answers most merchants without the product's permission: an
 * unsigned `return_code=FAIL` with this return_msg (commas full-width as WeChat writes them; merchants
 * quote `{"return_code":"FAIL","return_msg":"商户号该产品权限未开通，请前往商户平台>产品中心检查后重试"}`,
 * e.g. lokielse/omnipay-wechatpay#71, befinal/node-tenpay#49). The sandbox's default refusal form.
 */
export const V2_NO_PRODUCT_MSG = '商户号该产品权限未开通，请前往商户平台>产品中心检查后重试';

/** How v2 refuses MWEB without H5 permission: `RETURN_FAIL` (unsigned, the default, as live) or `NOAUTH` (signed err_code). */
export type H5RefusalForm = 'RETURN_FAIL' | 'NOAUTH';
export const H5_REFUSAL_FORMS: readonly H5RefusalForm[] = ['RETURN_FAIL', 'NOAUTH'];
/** v3's: HTTP 403 `{"code":"NO_AUTH","message":"商户号该产品权限未开通,请前往商户平台>产品中心检查后重试"}` (as merchants quote it). */
export const V3_NOAUTH_MESSAGE = '商户号该产品权限未开通,请前往商户平台>产品中心检查后重试';

/** Whether `m` may take H5 payment now: the dashboard's switch if set, else the merchant's own setting. */
export async function h5PayOf(m: SandboxMerchant, db?: SandboxDb): Promise<boolean> {
  const row = await (db ?? (await sandboxDb())).selectFrom('sandbox_h5').select('h5_pay').where('mch_id', '=', m.mchId).executeTakeFirst();
  return row ? row.h5_pay === 1 : m.h5Pay;
}

/** The form v2 refuses `m`'s MWEB orders in when it lacks H5 permission: the switch's choice, else RETURN_FAIL. */
export async function h5RefusalOf(m: SandboxMerchant, db?: SandboxDb): Promise<H5RefusalForm> {
  const row = await (db ?? (await sandboxDb())).selectFrom('sandbox_h5').select('refusal').where('mch_id', '=', m.mchId).executeTakeFirst();
  return row?.refusal === 'NOAUTH' ? 'NOAUTH' : 'RETURN_FAIL';
}

/**
 * The dashboard's / POST /sandbox/sim/h5's switch: grant or take away H5 payment, and (optionally) the
 * form v2 refuses in; a switch without `refusal` keeps the one set before.
 */
export async function setH5Pay(mchId: string, on: boolean, refusal?: H5RefusalForm): Promise<void> {
  const db = await sandboxDb();
  const at = nowIso();
  const set = { h5_pay: on ? 1 : 0, updated_at: at, ...(refusal ? { refusal } : {}) };
  await db.insertInto('sandbox_h5').values({ mch_id: mchId, refusal: refusal ?? null, ...set })
    .onConflict((oc) => oc.column('mch_id').doUpdateSet(set))
    .execute();
}

/**
 * A fresh mweb_url for an MWEB order: WeChat's middle-page URL shape (`checkmweb?prepay_id=...&package=...`)
 * on the sandbox's cashier. Each answer issues its own, valid 5 minutes.
 */
export async function issueMwebUrl(db: SandboxDb, o: SandboxOrder, now: number = Date.now()): Promise<string> {
  const pkg = String(randomInt(1_000_000_000, 2_147_483_647));
  await db.insertInto('sandbox_mweb').values({ package: pkg, mch_id: o.mch_id, out_trade_no: o.out_trade_no, prepay_id: o.prepay_id, issued_at: nowIso(now) }).execute();
  return `${getConfig().publicBaseUrl}/sandbox/h5pay?prepay_id=${encodeURIComponent(o.prepay_id)}&package=${pkg}`;
}

/** The mweb_url a cashier request names (prepay_id and package must belong together), or undefined. */
export async function findMweb(prepayId: string, pkg: string) {
  const db = await sandboxDb();
  return db.selectFrom('sandbox_mweb').selectAll().where('package', '=', pkg).where('prepay_id', '=', prepayId).executeTakeFirst();
}

/** True when `host` is a registered H5 domain or under one (WeChat registers a domain; its subdomains may pay). */
export function hostAllowed(host: string, domains: readonly string[]): boolean {
  const h = host.toLowerCase();
  return domains.some((d) => h === d || h.endsWith(`.${d}`));
}

/**
 * What the cashier refuses, in WeChat's order of checks, or null when it may open: inside WeChat,
 * no Referer, a Referer (or redirect_url) off the H5 domains, an mweb_url older than 5 minutes.
 */
export function cashierRefusal(
  req: { userAgent: string | null; referer: string | null; redirectUrl: string | null; issuedAt: string; now: number },
  domains: readonly string[],
): H5ErrorCode | null {
  if (/MicroMessenger/i.test(req.userAgent ?? '')) return 'IN_WECHAT';
  const host = (url: string | null): string | null => {
    try {
      return url ? new URL(url).hostname : null;
    } catch {
      return null;
    }
  };
  const referer = host(req.referer);
  if (!referer) return 'NO_REFERER';
  if (!hostAllowed(referer, domains)) return 'DOMAIN';
  if (req.redirectUrl !== null) {
    const back = host(req.redirectUrl);
    if (!back || !hostAllowed(back, domains)) return 'DOMAIN';
  }
  if (Date.parse(req.issuedAt) + MWEB_URL_TTL_MS <= req.now) return 'EXPIRED';
  return null;
}
