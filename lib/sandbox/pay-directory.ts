/*
 * WeChat's JSAPI payment directory check (支付授权目录), as the WeChat client makes it before it shows the
 * payment sheet. Facts (docs/sandbox.md, "Payment directories"):
 *  - the directory of the page (its URL up to and including the last `/` of the path; query and
 *    fragment ignored) must EQUAL a registered directory: a page in a subdirectory of one is refused
 *    ("该目录必须是发起支付的页面的精确目录，子目录下无法正常调用支付");
 *  - Android checks the page's current URL; iOS checks the URL the page was loaded at (its landing
 *    URL): a single-page app that moved there with history.pushState is checked where it landed, and
 *    only a full load (location.href = ...) moves it;
 *  - the refusal is `get_brand_wcpay_request:fail` with 当前页面的URL未注册.
 */

/** The page the bridge was asked from: its current URL and the URL its document was loaded at. */
export interface PageUrls {
  /** location.href */
  current: string;
  /** The URL of the document's own load (the navigation entry): what iOS WeChat checks. */
  landing: string;
}

/** Which URL a WeChat client checks: iOS the landing one, everyone else the current one. */
export function checkedUrl(page: PageUrls, userAgent: string | null): string {
  return /iPhone|iPad|iPod/i.test(userAgent ?? '') ? page.landing : page.current;
}

/** The directory WeChat compares: scheme, host (lower-cased by URL) and path up to its last `/`; null for no http(s) URL. */
export function directoryOf(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  return `${u.origin}${u.pathname.slice(0, u.pathname.lastIndexOf('/') + 1)}`;
}

/** Registered directories as WeChat compares them (host case folded, like a page's). */
function normalized(dir: string): string | null {
  const d = directoryOf(dir);
  return d !== null && d === directoryOf(`${dir}x`) ? d : null;
}

/**
 * Null when the page may pay, else WeChat's refusal (with the sandbox's hint of what is registered,
 * which live WeChat does not give).
 */
export function payDirectoryRefusal(page: PageUrls, userAgent: string | null, registered: readonly string[]): string | null {
  const url = checkedUrl(page, userAgent);
  const dir = directoryOf(url);
  if (dir !== null && registered.some((r) => normalized(r) === dir)) return null;
  const which = url === page.current ? '' : '（iOS 检查页面最初加载的 URL）';
  return `当前页面的URL未注册：${url}${which}。已注册的支付授权目录：${registered.join(' ')}`;
}
