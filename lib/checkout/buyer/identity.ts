import { randomBytes } from 'node:crypto';
import { getConfig } from '../../config';
import { classifyUserAgent, type UserAgentClass } from '../../wechat/ua';
import { type ClientAddress, clientIp } from '../kernel';

/*
 * Who the buyer is and how they pay, from plain header and cookie values that app/ reads and passes
 * in (lib/checkout never sees a request).
 */

/** Who is looking at an order: the session's buyer ids, and whether it holds a live merchant session. */
export interface Viewer {
  buyerId?: string;
  openid?: string;
  /** True only when app/ checked the session's merchant session id (merchant.checkMerchantSession). */
  merchant?: boolean;
}

/** The random id that owns a buyer's orders; set once per browser session, never derived from input. */
export function newBuyerId(): string {
  return `b_${randomBytes(16).toString('base64url')}`;
}

/** Gives the session a buyer id when it has none; returns it. The caller saves the session. */
export function ensureBuyerId(session: { buyerId?: string }): string {
  if (!session.buyerId || !/^b_[A-Za-z0-9_-]{10,64}$/.test(session.buyerId)) session.buyerId = newBuyerId();
  return session.buyerId;
}

/**
 * The buyer's IP for unifiedorder's spbill_create_ip: the kernel's one client-IP rule (see clientIp)
 * under this deployment's TRUST_PROXY. It only feeds WeChat's risk checks; it grants nothing here.
 */
export function buyerIp(client: ClientAddress): string {
  return clientIp(client, getConfig().trustProxy);
}

/** Where the page is open: WeChat on a phone or a desktop, WeCom, another phone browser, a desktop browser. */
export type ClientKind = UserAgentClass;

/** How a client pays: JSAPI inside WeChat, H5 payment (MWEB) in a phone browser when offered, a Native QR everywhere else. */
export type PayMode = 'jsapi' | 'native' | 'mweb';

/**
 * In sandbox mode the dashboard's `sandbox_wechat_browser=1` cookie makes a desktop browser act as
 * WeChat on a phone, so the JSAPI flow can be tried without a phone.
 */
export function effectiveClientKind(uaKind: ClientKind, sandbox: boolean, sandboxWechatCookie: string | undefined): ClientKind {
  if (sandbox && sandboxWechatCookie === '1') return 'wechat-mobile';
  return uaKind;
}

/** The client kind of a request, from its User-Agent and the sandbox's browser-mode cookie. */
export function detectClient(userAgent: string | null | undefined, sandboxWechatCookie: string | undefined): ClientKind {
  return effectiveClientKind(classifyUserAgent(userAgent ?? ''), getConfig().mode === 'sandbox', sandboxWechatCookie);
}

/**
 * `h5`: whether H5 payment is offered now (payments.mwebOffered); only a phone browser uses it.
 * Desktop WeChat (Windows/macOS 3.x and later) runs getBrandWCPayRequest, so it pays by JSAPI like the
 * phone. WeCom's browser has no WeChat Pay bridge: it gets the QR, to scan with WeChat.
 */
export function payModeFor(kind: ClientKind, h5 = false): PayMode {
  if (kind === 'wechat-mobile' || kind === 'wechat-desktop') return 'jsapi';
  // A phone browser outside WeChat pays in WeChat's H5 cashier when the merchant may (payments.mwebOffered).
  return kind === 'mobile' && h5 ? 'mweb' : 'native';
}
