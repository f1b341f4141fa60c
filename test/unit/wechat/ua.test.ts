import { describe, expect, it } from 'vitest';
import { classifyUserAgent, wechatVersion } from '../../../lib/wechat/ua';

// Real User-Agent strings as the respective apps send them.
const UA = {
  wechatIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN',
  wechatAndroid: 'Mozilla/5.0 (Linux; Android 14; V2229A Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64',
  wechatWindows: 'Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x63090a13) XWEB/9129 Flue',
  wechatMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) MicroMessenger/6.8.0(0x16080000) MacWechat/3.8.7(0x13080710) Reparser/1.0 NetType/WIFI',
  wechatMacNoMarker: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) MicroMessenger/6.8.0(0x16080000) NetType/WIFI',
  wecomIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh ColorScheme/Light',
  wecomWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/107.0.0.0 Safari/537.36 wxwork/4.1.16 (MicroMessenger/6.2) WindowsWechat MailPlugin_Electron WeMail embeddisk',
  safariIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  chromeAndroid: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  alipay: 'Mozilla/5.0 (Linux; U; Android 13; zh-CN; V2217A Build/TP1A.220624.014) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/69.0.3497.100 UWS/3.22.2.59 Mobile Safari/537.36 AlipayClient/10.5.36.8000 Language/zh-Hans',
  chromeDesktop: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
  edgeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
};

describe('classifyUserAgent', () => {
  it.each([
    ['wechatIphone', 'wechat-mobile'],
    ['wechatAndroid', 'wechat-mobile'],
    ['wechatWindows', 'wechat-desktop'],
    ['wechatMac', 'wechat-desktop'],
    ['wechatMacNoMarker', 'wechat-desktop'],
    ['wecomIphone', 'wecom'],
    ['wecomWindows', 'wecom'],
    ['safariIphone', 'mobile'],
    ['chromeAndroid', 'mobile'],
    ['alipay', 'mobile'],
    ['chromeDesktop', 'desktop'],
    ['edgeWindows', 'desktop'],
  ] as const)('%s -> %s', (name, expected) => {
    expect(classifyUserAgent(UA[name])).toBe(expected);
  });
  it('no or empty UA is a desktop browser', () => {
    expect(classifyUserAgent(undefined)).toBe('desktop');
    expect(classifyUserAgent(null)).toBe('desktop');
    expect(classifyUserAgent('')).toBe('desktop');
  });
});

describe('wechatVersion', () => {
  it('reads the MicroMessenger version, null outside WeChat', () => {
    expect(wechatVersion(UA.wechatIphone)).toBe('8.0.47');
    expect(wechatVersion(UA.wechatAndroid)).toBe('8.0.47.2560');
    expect(wechatVersion(UA.wechatWindows)).toBe('7.0.20.1781');
    expect(wechatVersion(UA.safariIphone)).toBeNull();
    expect(wechatVersion(undefined)).toBeNull();
  });
});
