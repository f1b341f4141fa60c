import { describe, expect, it } from 'vitest';
import { parseConfig } from '@/lib/config';
import { payModeFor } from '@/lib/checkout/buyer';
import { mwebPayUrl } from '@/lib/checkout/payments';
import { cashierClientIp, cashierRefusal, comparableIp, H5_ERRORS, hostAllowed, MWEB_URL_TTL_MS, sameClientIp } from '@/lib/sandbox/h5';
import { parseMerchantInput } from '@/lib/sandbox/merchants';
import { checkUnifiedOrder } from '@/lib/wechatpay/validate';

/*
 * H5 payment (MWEB) pieces. WeChat's facts (found with `search`, quoted in test/integration/wx-mweb.test.ts):
 * mweb_url lives 5 minutes; redirect_url is appended url-encoded ("在MWEB_URL后拼接上redirect_url参数 ...
 * 需对redirect_url进行urlencode处理", H5 guide chapter=15_4); the cashier refuses an empty Referer with
 * 商家参数格式有误，请联系商家解决, a Referer or redirect_url off the H5 domain with 商家存在未配置的参数，请联系商家解决,
 * an old URL with 支付请求已失效，请重新发起支付, and a WeChat browser with 请在微信外打开订单，进行支付.
 */
const NOW = Date.parse('2026-11-24T12:00:00.000Z');
const fresh = new Date(NOW - 60_000).toISOString();
const base = { userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1', referer: 'https://shop.example.com/shop/tea', redirectUrl: 'https://shop.example.com/orders/o_1?from=h5', issuedAt: fresh, now: NOW };

describe('the sandbox H5 cashier checks (lib/sandbox/h5.ts)', () => {
  it('opens for a page and redirect_url on a registered domain or its subdomain', () => {
    expect(cashierRefusal(base, ['shop.example.com'])).toBeNull();
    expect(cashierRefusal({ ...base, referer: 'https://m.shop.example.com/x', redirectUrl: null }, ['shop.example.com'])).toBeNull();
    expect(hostAllowed('SHOP.example.com', ['shop.example.com'])).toBe(true);
    expect(hostAllowed('evilshop.example.com', ['shop.example.com'])).toBe(false);
  });
  it('refuses each case with WeChat own text, in WeChat order', () => {
    expect(cashierRefusal({ ...base, userAgent: `${base.userAgent} MicroMessenger/8.0.49` }, ['shop.example.com'])).toBe('IN_WECHAT');
    expect(cashierRefusal({ ...base, referer: null }, ['shop.example.com'])).toBe('NO_REFERER');
    expect(cashierRefusal({ ...base, referer: 'https://other.example.com/' }, ['shop.example.com'])).toBe('DOMAIN');
    expect(cashierRefusal({ ...base, redirectUrl: 'https://other.example.com/back' }, ['shop.example.com'])).toBe('DOMAIN');
    expect(cashierRefusal({ ...base, issuedAt: new Date(NOW - MWEB_URL_TTL_MS).toISOString() }, ['shop.example.com'])).toBe('EXPIRED');
    expect(cashierRefusal({ ...base, issuedAt: new Date(NOW - MWEB_URL_TTL_MS + 1000).toISOString() }, ['shop.example.com'])).toBeNull();
    expect(H5_ERRORS).toEqual({
      NO_REFERER: '商家参数格式有误，请联系商家解决', DOMAIN: '商家存在未配置的参数，请联系商家解决',
      EXPIRED: '支付请求已失效，请重新发起支付', IN_WECHAT: '请在微信外打开订单，进行支付',
      IP: '网络环境未能通过安全验证，请稍后再试',
    });
  });
  // WeChat's H5 guide (常见错误): 网络环境未能通过安全验证，请稍后再试 when the IP opening the cashier is not the
  // order's spbill_create_ip (payer_client_ip on v3); merchants meet it after sending their server's IP
  // or when the phone switches networks (https://pay.weixin.qq.com/wiki/doc/api/H5.php?chapter=15_4).
  it('refuses a cashier opened from another address than the order was placed for', () => {
    const ip = { ...base, orderIp: '203.0.113.7' };
    expect(cashierRefusal({ ...ip, clientIp: '198.51.100.9' }, ['shop.example.com'])).toBe('IP');
    expect(cashierRefusal({ ...ip, clientIp: '203.0.113.7' }, ['shop.example.com'])).toBeNull();
    expect(cashierRefusal({ ...ip, clientIp: '::ffff:203.0.113.7' }, ['shop.example.com'])).toBeNull();
    // The earlier checks come first: an expired URL says so whatever the address.
    expect(cashierRefusal({ ...ip, clientIp: '198.51.100.9', issuedAt: new Date(NOW - MWEB_URL_TTL_MS).toISOString() }, ['shop.example.com'])).toBe('EXPIRED');
  });
  it('compares addresses so the local flow passes: IPv4-mapped forms, ports, and loopback of either family', () => {
    expect(comparableIp('::ffff:127.0.0.1')).toBe('loopback');
    expect(comparableIp('::1')).toBe('loopback');
    expect(comparableIp('0:0:0:0:0:0:0:1')).toBe('loopback');
    expect(comparableIp('127.0.0.1')).toBe('loopback');
    expect(comparableIp('[::1]:3000')).toBe('loopback');
    expect(comparableIp('203.0.113.7:5555')).toBe('203.0.113.7');
    expect(comparableIp('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(comparableIp('not an ip')).toBeNull();
    expect(sameClientIp('127.0.0.1', '::1')).toBe(true);
    expect(sameClientIp('127.0.0.1', '::ffff:127.0.0.1')).toBe(true);
    expect(sameClientIp('127.0.0.1', '203.0.113.7')).toBe(false);
    expect(sameClientIp('::ffff:10.0.0.1', '10.0.0.2')).toBe(false);
    // Unknown on either side (a URL issued before the IP was kept, an unreadable header): not refused for it.
    expect(sameClientIp(null, '203.0.113.7')).toBe(true);
    expect(sameClientIp('203.0.113.7', null)).toBe(true);
    // The first X-Forwarded-For hop is the buyer (next start writes the socket there when absent).
    expect(cashierClientIp(new Headers({ 'x-forwarded-for': '198.51.100.9, 10.0.0.1' }))).toBe('198.51.100.9');
    expect(cashierClientIp(new Headers())).toBeNull();
  });
  it('a merchant file entry takes h5_domains and h5_pay, and names a bad one', () => {
    const ok = parseMerchantInput({ mch_id: '1230000109', appid: 'wxd678efh567hg6787', api_key: '0123456789abcdef0123456789ABCDEF', h5_domains: ['Shop.Example.com'], h5_pay: false });
    expect(ok.ok && ok.row).toMatchObject({ h5_domains: '["shop.example.com"]', h5_pay: 0 });
    const bad = parseMerchantInput({ h5_domains: ['https://shop.example.com/'] });
    expect(!bad.ok && bad.message).toMatch(/h5_domains: each must be a host name/);
    const badPay = parseMerchantInput({ h5_pay: 'no' });
    expect(!badPay.ok && badPay.message).toMatch(/h5_pay must be true or false/);
  });
});

describe('H5 payment in the checkout', () => {
  it('redirect_url is appended url-encoded to mweb_url', () => {
    expect(mwebPayUrl('https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=1037687096', 'https://shop.example.com/orders/o_1?from=h5'))
      .toBe('https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=1037687096&redirect_url=https%3A%2F%2Fshop.example.com%2Forders%2Fo_1%3Ffrom%3Dh5');
  });
  it('only a phone browser outside WeChat pays by MWEB, and only when offered', () => {
    expect(payModeFor('mobile', true)).toBe('mweb');
    expect(payModeFor('mobile', false)).toBe('native');
    expect(payModeFor('desktop', true)).toBe('native');
    expect(payModeFor('wecom', true)).toBe('native');
    expect(payModeFor('wechat-mobile', true)).toBe('jsapi');
  });
  it('WECHATPAY_MWEB is auto by default, on or off, and anything else is named; SANDBOX_H5_DOMAINS defaults to the app host', () => {
    const secret = { SESSION_SECRET: 'x'.repeat(32) };
    const d = parseConfig(secret);
    expect(d.ok && d.config.mweb).toBe('auto');
    expect(d.ok && d.config.sandboxH5Domains).toEqual(['localhost']);
    for (const v of ['on', 'off', 'AUTO']) {
      const r = parseConfig({ ...secret, WECHATPAY_MWEB: v });
      expect(r.ok && r.config.mweb).toBe(v.toLowerCase());
    }
    const bad = parseConfig({ ...secret, WECHATPAY_MWEB: 'yes' });
    expect(!bad.ok && bad.errors.join('\n')).toMatch(/WECHATPAY_MWEB: must be auto, on or off, got "yes"/);
    const domains = parseConfig({ ...secret, SANDBOX_H5_DOMAINS: 'Shop.example.com, m.example.com' });
    expect(domains.ok && domains.config.sandboxH5Domains).toEqual(['shop.example.com', 'm.example.com']);
    const badDomain = parseConfig({ ...secret, SANDBOX_H5_DOMAINS: 'https://shop.example.com' });
    expect(!badDomain.ok && badDomain.errors.join('\n')).toMatch(/SANDBOX_H5_DOMAINS: must be comma-separated host names/);
  });
  it('the v2 client refuses an MWEB unifiedorder without a well-formed scene_info before calling WeChat', () => {
    const req = { body: 'x', out_trade_no: 'P123456', total_fee: 1, spbill_create_ip: '203.0.113.7', notify_url: 'https://a.example/n', trade_type: 'MWEB' as const };
    expect(() => checkUnifiedOrder(req, NOW)).toThrow(/scene_info/);
    expect(() => checkUnifiedOrder({ ...req, scene_info: '{"h5_info":{"type":"Wap"}}' }, NOW)).toThrow(/wap_url/);
    expect(() => checkUnifiedOrder({ ...req, scene_info: JSON.stringify({ h5_info: { type: 'Wap', wap_url: 'https://a.example', wap_name: 'a' } }) }, NOW)).not.toThrow();
  });
});
