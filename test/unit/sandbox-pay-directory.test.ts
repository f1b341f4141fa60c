import { describe, expect, it } from 'vitest';
import { parseConfig } from '@/lib/config';
import { checkedUrl, directoryOf, payDirectoryRefusal } from '@/lib/sandbox/pay-directory';

/**
 * WeChat's JSAPI payment directory (支付授权目录) rule as the sandbox applies it. Sources: WeChat Pay's
 * JSAPI development guide (支付授权目录 must be the exact directory of the paying page, "子目录下无法
 * 正常调用支付"; 当前页面的URL未注册 otherwise), and the community write-ups of the iOS difference
 * (yurixu.com 漫谈微信支付-授权目录设置; ppmy.cn/news/897843: "IOS: LandingPath, 安卓: CurrentPath").
 */
const IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003129) NetType/WIFI Language/zh_CN';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36 MicroMessenger/8.0.49.2600(0x28003133)';
const DIRS = ['https://shop.example.com/shop/', 'https://shop.example.com/pay/'];
const at = (current: string, landing = current) => ({ current, landing });

describe('the JSAPI payment directory', () => {
  it('is the page URL up to its last slash, without query or fragment, host lower-cased', () => {
    expect(directoryOf('https://Shop.Example.com/shop/green-tea?from=share#wechat_redirect')).toBe('https://shop.example.com/shop/');
    expect(directoryOf('https://shop.example.com/shop/')).toBe('https://shop.example.com/shop/');
    expect(directoryOf('https://shop.example.com/')).toBe('https://shop.example.com/');
    expect(directoryOf('javascript:alert(1)')).toBeNull();
    expect(directoryOf('not a url')).toBeNull();
  });

  it('lets a page in a registered directory pay, and refuses its subdirectories, its parent and other hosts', () => {
    expect(payDirectoryRefusal(at('https://shop.example.com/shop/green-tea'), ANDROID, DIRS)).toBeNull();
    expect(payDirectoryRefusal(at('https://shop.example.com/pay/cs_1?x=1'), ANDROID, DIRS)).toBeNull();
    for (const url of ['https://shop.example.com/shop/tea/green', 'https://shop.example.com/green-tea', 'http://shop.example.com/shop/green-tea', 'https://evil.example.com/shop/x', 'https://shop.example.com/Shop/x']) {
      expect(payDirectoryRefusal(at(url), ANDROID, DIRS), url).toBe(`当前页面的URL未注册：${url}。已注册的支付授权目录：${DIRS.join(' ')}`);
    }
  });

  it('checks the landing URL on iOS and the current URL elsewhere (a pushState does not move the landing URL)', () => {
    const page = at('https://shop.example.com/account/orders', 'https://shop.example.com/shop/green-tea');
    expect(checkedUrl(page, IOS)).toBe(page.landing);
    expect(checkedUrl(page, ANDROID)).toBe(page.current);
    expect(payDirectoryRefusal(page, IOS, DIRS)).toBeNull();
    expect(payDirectoryRefusal(page, ANDROID, DIRS)).toMatch(/^当前页面的URL未注册：https:\/\/shop.example.com\/account\/orders。/);
    const landedHome = at('https://shop.example.com/shop/green-tea', 'https://shop.example.com/');
    expect(payDirectoryRefusal(landedHome, IOS, DIRS)).toMatch(/^当前页面的URL未注册：https:\/\/shop.example.com\/（iOS 检查页面最初加载的 URL）/);
    expect(payDirectoryRefusal(landedHome, ANDROID, DIRS)).toBeNull();
  });

  it('defaults to the checkout own pages and validates SANDBOX_PAY_DIRECTORIES', () => {
    const ok = parseConfig({ PUBLIC_BASE_URL: 'http://localhost:3000', SESSION_SECRET: 'x'.repeat(32) });
    expect(ok.ok && ok.config.sandboxPayDirectories).toEqual(['http://localhost:3000/shop/', 'http://localhost:3000/pay/']);
    const set = parseConfig({ SANDBOX_PAY_DIRECTORIES: 'https://a.example.com/h5/, https://a.example.com/', SESSION_SECRET: 'x'.repeat(32) });
    expect(set.ok && set.config.sandboxPayDirectories).toEqual(['https://a.example.com/h5/', 'https://a.example.com/']);
    for (const bad of ['https://a.example.com/h5', 'https://a.example.com/h5/?x=1', 'ftp://a.example.com/', 'https://a.example.com/1/,https://a.example.com/2/,https://a.example.com/3/,https://a.example.com/4/,https://a.example.com/5/,https://a.example.com/6/']) {
      const r = parseConfig({ SANDBOX_PAY_DIRECTORIES: bad, SESSION_SECRET: 'x'.repeat(32) });
      expect(r.ok, bad).toBe(false);
      expect(!r.ok && r.errors.join('\n')).toMatch(/SANDBOX_PAY_DIRECTORIES/);
    }
  });
});
