import { describe, expect, it } from 'vitest';
import { effectiveClientKind, ensureBuyerId, payModeFor, safeReturnTo } from '@/lib/checkout/buyer';
import { clientBlock, clientIp, FALLBACK_IP } from '@/lib/checkout/kernel';
import { truncateUtf8 } from '@/lib/checkout/payments';

describe('clientIp (the buyer IP sent to WeChat and the login throttle key)', () => {
  const xff = (forwardedFor: string | null | undefined) => ({ forwardedFor });
  it('without TRUST_PROXY takes the socket address and ignores any X-Forwarded-For, normalized', () => {
    expect(clientIp({ peer: '203.0.113.7', forwardedFor: '198.51.100.1' }, false)).toBe('203.0.113.7');
    expect(clientIp({ peer: '::ffff:127.0.0.1', forwardedFor: '1.1.1.1, 2.2.2.2' }, false)).toBe('127.0.0.1');
    expect(clientIp({ peer: '::1' }, false)).toBe('::1');
    expect(clientIp({ peer: '2001:db8::1' }, false)).toBe('2001:db8::1');
    // A stamped but unknown socket address is not replaced by the client's header.
    expect(clientIp({ peer: '', forwardedFor: '198.51.100.1' }, false)).toBe(FALLBACK_IP);
  });
  it('with no socket address known, takes the single address next start wrote', () => {
    expect(clientIp(xff('203.0.113.7'), false)).toBe('203.0.113.7');
    expect(clientIp(xff('::ffff:127.0.0.1'), false)).toBe('127.0.0.1');
    expect(clientIp(xff('2001:db8::1'), false)).toBe('2001:db8::1');
  });
  it('with no socket address known, does not believe a client-sent chain or garbage', () => {
    expect(clientIp(xff('1.1.1.1, 203.0.113.7'), false)).toBe(FALLBACK_IP);
    expect(clientIp(xff('not-an-ip'), false)).toBe(FALLBACK_IP);
    expect(clientIp(xff('<script>'), false)).toBe(FALLBACK_IP);
    expect(clientIp(xff(null), false)).toBe(FALLBACK_IP);
    expect(clientIp(xff(''), false)).toBe(FALLBACK_IP);
  });
  it('with TRUST_PROXY takes the rightmost valid entry: what our proxy saw, not what the client claimed', () => {
    expect(clientIp({ peer: '10.0.0.2', forwardedFor: '198.51.100.4, 10.0.0.1' }, true)).toBe('10.0.0.1');
    expect(clientIp(xff('6.6.6.6, 198.51.100.4'), true)).toBe('198.51.100.4');
    expect(clientIp(xff('198.51.100.4, junk'), true)).toBe('198.51.100.4');
    expect(clientIp(xff('[2001:db8::2]:443'), true)).toBe('2001:db8::2');
    expect(clientIp(xff('198.51.100.9:5555'), true)).toBe('198.51.100.9');
    expect(clientIp(xff(undefined), true)).toBe(FALLBACK_IP);
    // The proxy wrote nothing usable: the proxy itself, not a guess.
    expect(clientIp({ peer: '10.0.0.2', forwardedFor: 'junk' }, true)).toBe('10.0.0.2');
  });
});

describe('clientBlock (the login throttle counts an IPv6 client by its /64)', () => {
  it('keeps IPv4 and groups IPv6 by the first four groups, however it is written', () => {
    expect(clientBlock('203.0.113.7')).toBe('203.0.113.7');
    expect(clientBlock('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(clientBlock('2001:db8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(clientBlock('2001:0DB8:0001:0002:ffff::1')).toBe('2001:db8:1:2::/64');
    expect(clientBlock('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientBlock('::1')).toBe('0:0:0:0::/64');
    expect(clientBlock('64:ff9b::198.51.100.1')).toBe('64:ff9b:0:0::/64');
    expect(clientBlock('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});

describe('client kind and pay mode', () => {
  it('pays by JSAPI in WeChat (phone and desktop), by QR elsewhere including WeCom', () => {
    expect(payModeFor('wechat-mobile')).toBe('jsapi');
    expect(payModeFor('wechat-desktop')).toBe('jsapi');
    expect(payModeFor('wecom')).toBe('native');
    expect(payModeFor('mobile')).toBe('native');
    expect(payModeFor('desktop')).toBe('native');
  });
  it('honours the sandbox_wechat_browser cookie only in sandbox mode', () => {
    expect(effectiveClientKind('desktop', true, '1')).toBe('wechat-mobile');
    expect(effectiveClientKind('desktop', false, '1')).toBe('desktop');
    expect(effectiveClientKind('desktop', true, '0')).toBe('desktop');
    expect(effectiveClientKind('mobile', true, undefined)).toBe('mobile');
  });
});

describe('ensureBuyerId', () => {
  it('creates a random id once and keeps it', () => {
    const s: { buyerId?: string } = {};
    const a = ensureBuyerId(s);
    expect(a).toMatch(/^b_[A-Za-z0-9_-]{20,}$/);
    expect(ensureBuyerId(s)).toBe(a);
    expect(ensureBuyerId({})).not.toBe(a);
  });
  it('replaces a malformed id', () => {
    const s = { buyerId: 'x; drop table' };
    expect(ensureBuyerId(s)).toMatch(/^b_/);
  });
});

describe('safeReturnTo', () => {
  const origin = 'https://shop.example.com';
  it('keeps same-origin relative paths with their query', () => {
    expect(safeReturnTo('/shop/green-tea', origin)).toBe('/shop/green-tea');
    expect(safeReturnTo('/shop/green-tea?x=1', origin)).toBe('/shop/green-tea?x=1');
  });
  it('refuses anything that could leave the origin', () => {
    for (const bad of ['//evil.com/x', '/\\evil.com', 'https://evil.com/', 'javascript:alert(1)', 'shop/x', '/\t/evil.com', '', null, undefined]) {
      expect(safeReturnTo(bad, origin)).toBe('/');
    }
  });
  // Each of these passes the "starts with / but not // or /\\" test and stays same-origin for new URL(),
  // whose dot-segment normalisation then turns the pathname into //evil.com: sent as a Location, a
  // browser reads that as a protocol-relative URL to evil.com.
  it.each(['/.//evil.com', '/..//evil.com', '/a/..//evil.com', '/%2e//evil.com', '/%2E%2E//evil.com', '/x/%2e%2e//evil.com/path?q=1'])(
    'refuses %j, which normalises to a path starting with //',
    (bad) => {
      expect(new URL(bad, origin).pathname.startsWith('//')).toBe(true);
      expect(safeReturnTo(bad, origin)).toBe('/');
    },
  );
  it('refuses encoded slashes in the path (a proxy that decodes them would see //evil.com), keeps them in the query', () => {
    for (const bad of ['/%2F%2Fevil.com', '/%2f/evil.com', '/%5C%5Cevil.com', '/shop/%2F%2Fevil.com']) expect(safeReturnTo(bad, origin)).toBe('/');
    expect(safeReturnTo('/shop/green-tea?next=%2F%2Fx', origin)).toBe('/shop/green-tea?next=%2F%2Fx');
  });
  it('whatever the input, never returns a path a browser could read as another host', () => {
    const inputs = ['/.//evil.com', '/%2e%2e//evil.com', '/a/b/../..//evil.com', '/.%2F/evil.com', '/./%2F/evil.com', '/%09/evil.com', '/ //evil.com'];
    for (const raw of inputs) {
      const out = safeReturnTo(raw, origin);
      expect(out.startsWith('/')).toBe(true);
      expect(out.startsWith('//') || out.startsWith('/\\')).toBe(false);
      expect(new URL(out, origin).origin).toBe(origin);
    }
  });
});

describe('truncateUtf8', () => {
  it('leaves short text alone and cuts long text on a character boundary within the byte limit', () => {
    expect(truncateUtf8('明前龙井 50g')).toBe('明前龙井 50g');
    const long = '龙'.repeat(60); // 180 bytes
    const cut = truncateUtf8(long);
    expect(Buffer.byteLength(cut, 'utf8')).toBeLessThanOrEqual(127);
    expect(cut).toBe('龙'.repeat(42));
    expect(truncateUtf8('a😀b', 4)).toBe('a');
    expect(truncateUtf8('a😀b', 5)).toBe('a😀');
  });
});
