import { randomInt } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
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
 *  - 请在微信外打开订单，进行支付: opened inside WeChat, where H5 payment cannot run;
 *  - 网络环境未能通过安全验证，请稍后再试: the address opening the cashier is not the one the order was
 *    placed for (spbill_create_ip / v3 payer_client_ip): the merchant sent its server's IP, or the
 *    buyer's network changed between the order and the cashier (the guide's most common H5 failure).
 */

/** How long the cashier honours an mweb_url (mweb_url的有效期为5分钟). */
export const MWEB_URL_TTL_MS = 5 * 60_000;

/** WeChat's cashier errors, by what went wrong. */
export const H5_ERRORS = {
  NO_REFERER: '商家参数格式有误，请联系商家解决',
  DOMAIN: '商家存在未配置的参数，请联系商家解决',
  EXPIRED: '支付请求已失效，请重新发起支付',
  IN_WECHAT: '请在微信外打开订单，进行支付',
  IP: '网络环境未能通过安全验证，请稍后再试',
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
export async function issueMwebUrl(db: SandboxDb, o: SandboxOrder, clientIp: string, now: number = Date.now()): Promise<string> {
  const pkg = String(randomInt(1_000_000_000, 2_147_483_647));
  await db.insertInto('sandbox_mweb').values({ package: pkg, mch_id: o.mch_id, out_trade_no: o.out_trade_no, prepay_id: o.prepay_id, client_ip: clientIp, issued_at: nowIso(now) }).execute();
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
 * An address as the cashier compares it: IPv4-mapped IPv6 (::ffff:1.2.3.4, what a dual-stack socket
 * reports) as its IPv4 text, brackets and ports dropped, lower case; every loopback address (127.0.0.0/8,
 * ::1, ::ffff:127.x) as one `loopback`, since a local browser reaches a local server by either family
 * (localhost may resolve to ::1 for the cashier and 127.0.0.1 for the shop). Null when it is no address.
 */
export function comparableIp(raw: string | null | undefined): string | null {
  if (!raw) return null;
  let ip = raw.trim().toLowerCase();
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(ip);
  if (bracket) ip = bracket[1];
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(ip)) ip = ip.slice(0, ip.lastIndexOf(':'));
  const mapped = /^(?:::|0:0:0:0:0:)ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(ip);
  if (mapped) ip = mapped[1];
  const family = isIP(ip);
  if (family === 0) return null;
  return LOOPBACK.check(ip, family === 4 ? 'ipv4' : 'ipv6') ? 'loopback' : ip;
}

/** 127.0.0.0/8 and ::1 (BlockList compares any spelling of an IPv6 address). */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * True unless both addresses are known and differ (after comparableIp). An order without a stored IP
 * (issued before the sandbox kept it) or a request whose address cannot be read is not refused for it.
 */
export function sameClientIp(orderIp: string | null, requestIp: string | null): boolean {
  const a = comparableIp(orderIp);
  const b = comparableIp(requestIp);
  return a === null || b === null || a === b;
}

/**
 * The address WeChat's cashier sees: the first X-Forwarded-For hop. `next start` writes the socket
 * address there when the request brought none, so a direct request is judged by its socket and a test
 * may stand in for a buyer on another network by sending the header.
 */
export function cashierClientIp(headers: { get(name: string): string | null }): string | null {
  const first = (headers.get('x-forwarded-for') ?? '').split(',')[0]?.trim();
  return first || null;
}

/**
 * What the cashier refuses, in WeChat's order of checks, or null when it may open: inside WeChat,
 * no Referer, a Referer (or redirect_url) off the H5 domains, an mweb_url older than 5 minutes, an
 * address other than the one the order was placed for.
 */
export function cashierRefusal(
  req: { userAgent: string | null; referer: string | null; redirectUrl: string | null; issuedAt: string; now: number; orderIp?: string | null; clientIp?: string | null },
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
  if (!sameClientIp(req.orderIp ?? null, req.clientIp ?? null)) return 'IP';
  return null;
}
