/** Where a request comes from, as far as paying goes (JSAPI inside WeChat, a Native QR elsewhere). */
export type UserAgentClass = 'wechat-mobile' | 'wechat-desktop' | 'wecom' | 'mobile' | 'desktop';

const PHONE = /Android|iPhone|iPod|iPad|Mobile|HarmonyOS|OpenHarmony|Windows Phone/i;
const DESKTOP_WECHAT = /WindowsWechat|MacWechat|Windows NT|Macintosh|X11|Linux x86_64|CrOS/i;

/**
 * Classifies a User-Agent: WeCom (`wxwork`, which also says MicroMessenger) first; WeChat
 * (`MicroMessenger/x.y`) on a desktop (WindowsWechat/MacWechat or a desktop OS without a phone marker)
 * or on a phone; then other phone browsers; anything else, including no UA, is a desktop browser.
 * https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html (the bridge exists only in WeChat)
 */
export function classifyUserAgent(ua: string | null | undefined): UserAgentClass {
  const s = ua ?? '';
  if (/wxwork/i.test(s)) return 'wecom';
  if (/MicroMessenger/i.test(s)) {
    if (/WindowsWechat|MacWechat/i.test(s)) return 'wechat-desktop';
    if (PHONE.test(s)) return 'wechat-mobile';
    return DESKTOP_WECHAT.test(s) ? 'wechat-desktop' : 'wechat-mobile';
  }
  return PHONE.test(s) ? 'mobile' : 'desktop';
}

/** The WeChat version (`8.0.47` from `MicroMessenger/8.0.47(0x18002f2c)`), or null outside WeChat. */
export function wechatVersion(ua: string | null | undefined): string | null {
  const m = /MicroMessenger\/(\d+(?:\.\d+)*)/i.exec(ua ?? '');
  return m ? m[1] : null;
}
