import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WechatPayClient, type WechatPayClientOptions } from '../../lib/wechatpay/client';
import {
  WechatPayApiError, WechatPayCommunicationError, WechatPayError, WechatPayRequestError, WechatPaySignatureError, WechatPayTimeoutError,
} from '../../lib/wechatpay/errors';
import { type SignType, sign, verify } from '../../lib/wechatpay/sign';
import { formatWxTime } from '../../lib/wechatpay/time';
import { buildXml, parseXml } from '../../lib/wechatpay/xml';
import { signedResponse } from '../helpers/wechatpay-fixtures';
import { makeTlsFixtures, type TlsFixtures } from '../helpers/tls-fixtures';

const KEY = '192006250b4c09247ec02edce69f6a2d';
const APPID = 'wxd930ea5d5a258f4f';
const MCH = '10000100';

/** One scripted answer: a full reply, a hang (never answers) or a dropped connection. */
type Reply = { status?: number; body: string } | 'hang' | 'drop';
interface Seen {
  path: string;
  body: string;
  fields: Record<string, string>;
  contentType?: string;
  peerCN?: string;
}

/** A real WeChat-shaped server on 127.0.0.1 whose answers each test scripts, in order. */
function scripted() {
  const seen: Seen[] = [];
  let replies: Reply[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const peer = (req.socket as TLSSocket).getPeerCertificate?.();
      seen.push({ path: req.url ?? '', body, fields: parseXml(body), contentType: req.headers['content-type'], peerCN: peer?.subject?.CN === undefined ? undefined : String(peer.subject.CN) });
      const reply = replies.shift() ?? { status: 599, body: 'no reply scripted' };
      if (reply === 'hang') return;
      if (reply === 'drop') return req.socket.destroy();
      res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain; charset=utf-8' }).end(reply.body);
    });
  };
  return { seen, handler, script: (...r: Reply[]) => void (replies = r), reset: () => void ((replies = []), (seen.length = 0)) };
}

const ok = (fields: Record<string, string>, signType: SignType = 'MD5') => ({ body: signedResponse(fields, { apiKey: KEY, signType }) });
const fail = (err_code: string, err_code_des = '') => ok({ result_code: 'FAIL', err_code, err_code_des });
const thrown = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e as WechatPayError);

const NOW = Date.UTC(2026, 2, 1, 16, 30, 5);
const order = (over: Record<string, string | number> = {}) => ({
  body: '测试商品', out_trade_no: 'P2026030200300512AB', total_fee: 1, spbill_create_ip: '203.0.113.9',
  notify_url: 'https://shop.example.com/api/wechatpay/notify', trade_type: 'JSAPI' as const, openid: 'oUser1',
  time_start: formatWxTime(NOW), time_expire: formatWxTime(NOW + 30 * 60_000), ...over,
});

describe('WechatPayClient over real HTTP', () => {
  const srv = scripted();
  let server: http.Server;
  let baseUrl: string;
  const client = (o: Partial<WechatPayClientOptions> = {}) =>
    new WechatPayClient({ appId: APPID, mchId: MCH, apiKey: KEY, signType: 'MD5', baseUrl, now: () => NOW, retryDelayMs: 5, ...o });

  beforeAll(async () => {
    server = http.createServer(srv.handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sandbox/mch/`;
  });
  afterAll(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  beforeEach(() => srv.reset());

  it.each(['MD5', 'HMAC-SHA256'] as const)('unifiedorder (%s): signed request, verified response', async (signType) => {
    srv.script(ok({ trade_type: 'JSAPI', prepay_id: 'wx201410272009395522657a690389285100' }, signType));
    const res = await client({ signType }).unifiedOrder(order());
    expect(res.prepay_id).toBe('wx201410272009395522657a690389285100');
    const req = srv.seen[0];
    expect(req.path).toBe('/sandbox/mch/pay/unifiedorder');
    expect(req.contentType).toMatch(/xml/);
    expect(req.fields).toMatchObject({ appid: APPID, mch_id: MCH, sign_type: signType, total_fee: '1', body: '测试商品', time_expire: '20260302010005', openid: 'oUser1' });
    expect(req.fields.nonce_str).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(verify(req.fields, KEY, signType === 'MD5' ? 'HMAC-SHA256' : 'MD5')).toBe(true); // by its own sign_type
  });

  it('accepts an HMAC response that omits sign_type, using the configured type', async () => {
    const fields = { return_code: 'SUCCESS', appid: APPID, mch_id: MCH, nonce_str: 'n', result_code: 'SUCCESS', trade_state: 'NOTPAY' };
    srv.script({ body: buildXml({ ...fields, sign: sign(fields, KEY, 'HMAC-SHA256') }) }, { body: buildXml({ ...fields, sign: sign(fields, KEY, 'HMAC-SHA256') }) });
    await expect(client({ signType: 'HMAC-SHA256' }).orderQuery({ out_trade_no: 'P123456' })).resolves.toMatchObject({ trade_state: 'NOTPAY' });
    expect(await thrown(client({ signType: 'MD5' }).orderQuery({ out_trade_no: 'P123456' }))).toBeInstanceOf(WechatPaySignatureError);
  });

  it('rejects a forged response sign, a response signed with another key, and an unsigned one', async () => {
    const genuine = signedResponse({ trade_type: 'NATIVE', code_url: 'weixin://wxpay/bizpayurl?pr=NwY5Mz9' }, { apiKey: KEY });
    const forged = genuine.replace('pr=NwY5Mz9', 'pr=ATTACKR');
    const otherKey = signedResponse({ trade_type: 'NATIVE', code_url: 'weixin://x' }, { apiKey: 'k'.repeat(32) });
    const unsigned = buildXml({ return_code: 'SUCCESS', result_code: 'SUCCESS', appid: APPID, mch_id: MCH, code_url: 'weixin://x' });
    srv.script({ body: forged }, { body: otherKey }, { body: unsigned });
    const c = client();
    const native = order({ trade_type: 'NATIVE', product_id: 'SKU1', openid: '' });
    const e1 = await thrown(c.unifiedOrder(native));
    expect(e1).toBeInstanceOf(WechatPaySignatureError);
    expect(e1).toMatchObject({ code: 'BAD_SIGN', statusCode: 200 });
    expect(await thrown(c.unifiedOrder(native))).toMatchObject({ name: 'WechatPaySignatureError', code: 'BAD_SIGN' });
    expect(await thrown(c.unifiedOrder(native))).toMatchObject({ name: 'WechatPaySignatureError', code: 'MISSING_SIGN' });
    expect(srv.seen).toHaveLength(3); // a bad signature is not retried: it is not transient
  });

  it('a permanent return_code FAIL (the request is wrong) is a WechatPayRequestError carrying return_msg, not retried', async () => {
    srv.script({ body: buildXml({ return_code: 'FAIL', return_msg: '签名错误' }) });
    const e = await thrown(client().closeOrder({ out_trade_no: 'P123456' }));
    expect(e).toBeInstanceOf(WechatPayRequestError);
    expect(e).toMatchObject({ code: 'RETURN_FAIL', returnMsg: '签名错误', message: expect.stringContaining('签名错误'), raw: { return_code: 'FAIL', return_msg: '签名错误' } });
    expect(srv.seen).toHaveLength(1);
  });

  it('a transient return_code FAIL (系统错误稍后再试) is resent with the same body, then a communication error', async () => {
    const busy = { body: buildXml({ return_code: 'FAIL', return_msg: '系统错误稍后再试' }) };
    srv.script(busy, busy, busy);
    const e = await thrown(client().closeOrder({ out_trade_no: 'P123456' }));
    expect(e).toBeInstanceOf(WechatPayCommunicationError);
    expect(e).toMatchObject({ code: 'RETURN_FAIL', message: expect.stringContaining('系统错误稍后再试') });
    expect(srv.seen).toHaveLength(3);
    expect(new Set(srv.seen.map((r) => r.body)).size).toBe(1);
  });

  it.each(['ORDERPAID', 'ORDERCLOSED', 'ORDERNOTEXIST', 'INVALID_REQUEST'])('business failure %s is a WechatPayApiError, not retried', async (code) => {
    srv.script(fail(code, '描述'));
    const e = await thrown(client().closeOrder({ out_trade_no: 'P123456' }));
    expect(e).toBeInstanceOf(WechatPayApiError);
    expect(e).toMatchObject({ code, errCodeDes: '描述', statusCode: 200 });
    expect(srv.seen).toHaveLength(1);
    expect(srv.seen[0].path).toBe('/sandbox/mch/pay/closeorder');
  });

  it('retries SYSTEMERROR with the very same body, then succeeds', async () => {
    srv.script(fail('SYSTEMERROR', '系统繁忙'), fail('SYSTEMERROR'), ok({ trade_state: 'SUCCESS', transaction_id: '4200000001', total_fee: '1' }));
    await expect(client().orderQuery({ transaction_id: '4200000001' })).resolves.toMatchObject({ trade_state: 'SUCCESS', total_fee: '1' });
    expect(srv.seen).toHaveLength(3);
    expect(new Set(srv.seen.map((s) => s.body)).size).toBe(1);
  });

  it('stops after maxRetries and throws the last SYSTEMERROR', async () => {
    srv.script(fail('SYSTEMERROR'), fail('SYSTEMERROR'), fail('SYSTEMERROR'), ok({}));
    const e = await thrown(client({ maxRetries: 1 }).orderQuery({ out_trade_no: 'P123456' }));
    expect(e).toMatchObject({ name: 'WechatPayApiError', code: 'SYSTEMERROR' });
    expect(srv.seen).toHaveLength(2);
  });

  it('retries HTTP 5xx and dropped connections; other statuses fail at once', async () => {
    srv.script({ status: 502, body: 'bad gateway' }, 'drop', ok({ trade_state: 'NOTPAY' }));
    await expect(client().orderQuery({ out_trade_no: 'P123456' })).resolves.toMatchObject({ trade_state: 'NOTPAY' });
    expect(srv.seen).toHaveLength(3);
    srv.reset();
    srv.script({ status: 500, body: 'x' }, { status: 500, body: 'x' }, { status: 500, body: 'x' });
    expect(await thrown(client().orderQuery({ out_trade_no: 'P123456' }))).toMatchObject({ name: 'WechatPayCommunicationError', code: 'HTTP_ERROR', statusCode: 500 });
    expect(srv.seen).toHaveLength(3);
    srv.reset();
    srv.script({ status: 404, body: 'not found' });
    expect(await thrown(client().orderQuery({ out_trade_no: 'P123456' }))).toMatchObject({ name: 'WechatPayCommunicationError', code: 'HTTP_ERROR', statusCode: 404 });
    expect(srv.seen).toHaveLength(1);
  });

  it('orderQuery with { maxRetries: 0 } is sent once; the same client still retries its other calls and plain queries', async () => {
    // A claimed status poll asks once per 3 s window (lib/checkout/payments/sync.ts confirmPendingOrder):
    // a client retry there would be a second orderquery inside the window.
    const c = client();
    srv.script({ status: 500, body: 'x' }, { status: 500, body: 'x' }, { status: 500, body: 'x' });
    expect(await thrown(c.orderQuery({ out_trade_no: 'P123456' }, { maxRetries: 0 }))).toMatchObject({ code: 'HTTP_ERROR', statusCode: 500, message: 'orderquery: HTTP 500 from ' + baseUrl.replace(/\/$/, '') + '/pay/orderquery' });
    expect(srv.seen).toHaveLength(1);
    srv.reset();
    srv.script('drop', ok({}));
    expect(await thrown(c.orderQuery({ out_trade_no: 'P123456' }, { maxRetries: 0 }))).toMatchObject({ code: 'NETWORK', message: expect.stringContaining('attempt 1 of 1') });
    expect(srv.seen).toHaveLength(1);
    srv.reset();
    srv.script(fail('SYSTEMERROR'), ok({ trade_state: 'NOTPAY' }));
    expect(await thrown(c.orderQuery({ out_trade_no: 'P123456' }, { maxRetries: 0 }))).toMatchObject({ name: 'WechatPayApiError', code: 'SYSTEMERROR' });
    expect(srv.seen).toHaveLength(1);

    // The option is per call: the client's own retries stay for everything else.
    srv.reset();
    srv.script({ status: 500, body: 'x' }, ok({ trade_state: 'NOTPAY' }));
    await expect(c.orderQuery({ out_trade_no: 'P123456' })).resolves.toMatchObject({ trade_state: 'NOTPAY' });
    expect(srv.seen).toHaveLength(2);
    srv.reset();
    srv.script({ status: 500, body: 'x' }, ok({}));
    await expect(c.closeOrder({ out_trade_no: 'P123456' })).resolves.toMatchObject({ result_code: 'SUCCESS' });
    srv.script({ status: 500, body: 'x' }, ok({ trade_type: 'JSAPI', prepay_id: 'wx2014' }));
    await expect(c.unifiedOrder(order())).resolves.toMatchObject({ prepay_id: 'wx2014' });
    expect(srv.seen.map((r) => r.path)).toEqual(['/sandbox/mch/pay/closeorder', '/sandbox/mch/pay/closeorder', '/sandbox/mch/pay/unifiedorder', '/sandbox/mch/pay/unifiedorder']);
  });

  it.each([-1, 1.5, 6, Number.NaN])('orderQuery refuses maxRetries %s before sending anything', async (n) => {
    srv.script(ok({ trade_state: 'NOTPAY' }));
    expect(await thrown(client().orderQuery({ out_trade_no: 'P123456' }, { maxRetries: n }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: `maxRetries must be a whole number from 0 to 5, got ${n}` });
    expect(srv.seen).toEqual([]);
  });

  it('a dead server is a NETWORK communication error after the retries', async () => {
    const dead = client({ baseUrl: 'http://127.0.0.1:1/sandbox/mch', maxRetries: 1 });
    expect(await thrown(dead.orderQuery({ out_trade_no: 'P123456' }))).toMatchObject({ name: 'WechatPayCommunicationError', code: 'NETWORK', message: expect.stringContaining('attempt 2 of 2') });
  });

  it('times out each attempt and throws WechatPayTimeoutError', async () => {
    srv.script('hang', 'hang');
    const started = Date.now();
    const e = await thrown(client({ timeoutMs: 150, maxRetries: 1 }).orderQuery({ out_trade_no: 'P123456' }));
    expect(e).toBeInstanceOf(WechatPayTimeoutError);
    expect(e).toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(srv.seen).toHaveLength(2);
  });

  it('a body that is not v2 XML is a BAD_RESPONSE communication error', async () => {
    srv.script({ body: '<html><body>gateway</body></html>' });
    expect(await thrown(client().orderQuery({ out_trade_no: 'P123456' }))).toMatchObject({ name: 'WechatPayCommunicationError', code: 'BAD_RESPONSE' });
  });

  it('unifiedorder SUCCESS without prepay_id is not trusted', async () => {
    srv.script(ok({ trade_type: 'JSAPI' }));
    expect(await thrown(client().unifiedOrder(order()))).toMatchObject({ code: 'BAD_RESPONSE' });
  });

  it('honours an injected fetch', async () => {
    const calls: string[] = [];
    const f: typeof fetch = (input, init) => {
      calls.push(String(input));
      return fetch(input, init);
    };
    srv.script(ok({ trade_state: 'CLOSED' }));
    await expect(client({ fetch: f }).orderQuery({ out_trade_no: 'P123456' })).resolves.toMatchObject({ trade_state: 'CLOSED' });
    expect(calls).toEqual([`${baseUrl.replace(/\/$/, '')}/pay/orderquery`]);
  });

  it('refund over plain http (the sandbox) needs no certificate; BIZERR_NEED_RETRY is retried', async () => {
    srv.script(fail('BIZERR_NEED_RETRY'), ok({ out_refund_no: 'R1', refund_id: '50300001', refund_fee: '1' }));
    const res = await client().refund({ out_trade_no: 'P123456', out_refund_no: 'R1', total_fee: 2, refund_fee: 1, refund_desc: '退货' });
    expect(res).toMatchObject({ refund_id: '50300001' });
    expect(srv.seen.map((s) => s.path)).toEqual(['/sandbox/mch/secapi/pay/refund', '/sandbox/mch/secapi/pay/refund']);
    expect(srv.seen[0].body).toBe(srv.seen[1].body);
    expect(srv.seen[0].fields).toMatchObject({ out_refund_no: 'R1', total_fee: '2', refund_fee: '1', refund_desc: '退货' });
  });

  it('refundquery returns the per-refund fields', async () => {
    srv.script(ok({ refund_count: '1', out_refund_no_0: 'R1', refund_status_0: 'SUCCESS' }));
    await expect(client().refundQuery({ out_refund_no: 'R1' })).resolves.toMatchObject({ refund_count: '1', refund_status_0: 'SUCCESS' });
    expect(srv.seen[0].path).toBe('/sandbox/mch/pay/refundquery');
  });

  it('downloadbill parses the plain-text bill; No Bill Exist is RETURN_FAIL', async () => {
    const header = '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
    const cells = ['2026-03-02 00:30:05', APPID, MCH, '0', 'WEB', '4200000001', 'P123456', 'oUser1', 'JSAPI', 'SUCCESS', 'CMC', 'CNY', '0.01', '0.00', '0', '0', '0.00', '0.00', '', '', '测试商品', '', '0.00000', '0.60%', '0.01', '0.00', ''];
    const bill = `\uFEFF${header}\r\n${cells.map((c) => `\`${c}`).join(',')}\r\n总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n\`1,\`0.01,\`0.00,\`0.00,\`0.00000,\`0.01,\`0.00\r\n`;
    srv.script({ body: bill }, { body: buildXml({ return_code: 'FAIL', return_msg: 'No Bill Exist' }) });
    const res = await client().downloadBill({ bill_date: '20260302', bill_type: 'ALL' });
    expect(res.rows).toHaveLength(1);
    expect(res.rows[0]).toMatchObject({ out_trade_no: 'P123456', total_fee: '0.01', trade_state: 'SUCCESS' });
    expect(res.summary).toMatchObject({ total_count: '1', total_fee: '0.01' });
    expect(srv.seen[0].fields).toMatchObject({ bill_date: '20260302', bill_type: 'ALL' });
    expect(await thrown(client().downloadBill({ bill_date: '20260303' }))).toMatchObject({ code: 'RETURN_FAIL', message: expect.stringContaining('No Bill Exist') });
  });

  it('refuses bad input locally, without a request', async () => {
    const c = client();
    const bad = expect.objectContaining({ name: 'WechatPayError', code: 'INVALID_ARGUMENT' });
    await expect(c.unifiedOrder(order({ time_expire: formatWxTime(NOW + 30_000) }))).rejects.toEqual(bad);
    await expect(c.unifiedOrder(order({ time_expire: '20261332000000' }))).rejects.toEqual(bad);
    await expect(c.unifiedOrder(order({ out_trade_no: 'P1' }))).rejects.toEqual(bad);
    await expect(c.unifiedOrder(order({ total_fee: 0 }))).rejects.toEqual(bad);
    await expect(c.unifiedOrder(order({ total_fee: '1.5' }))).rejects.toEqual(bad);
    await expect(c.unifiedOrder(order({ openid: '' }))).rejects.toEqual(bad);
    await expect(c.unifiedOrder(order({ body: '长'.repeat(43) }))).rejects.toEqual(bad);
    await expect(c.unifiedOrder(order({ notify_url: 'https://shop.example.com/n?x=1' }))).rejects.toEqual(bad);
    await expect(c.orderQuery({} as { out_trade_no: string })).rejects.toEqual(bad);
    await expect(c.refund({ out_trade_no: 'P123456', out_refund_no: 'R1', total_fee: 1, refund_fee: 2 })).rejects.toEqual(bad);
    await expect(c.downloadBill({ bill_date: '2026-03-02' })).rejects.toEqual(bad);
    expect(srv.seen).toHaveLength(0);
    expect(() => client({ signType: 'SHA1' as SignType })).toThrow(WechatPayError);
  });

  it('every error is a WechatPayError', async () => {
    srv.script(fail('ORDERPAID'), { body: buildXml({ return_code: 'FAIL', return_msg: 'x' }) });
    for (let i = 0; i < 2; i++) expect(await thrown(client().closeOrder({ out_trade_no: 'P123456' }))).toBeInstanceOf(WechatPayError);
  });
});

describe('refund over real mutual TLS', () => {
  const srv = scripted();
  let tls: TlsFixtures;
  let server: https.Server;
  let baseUrl: string;
  const client = (o: Partial<WechatPayClientOptions> = {}) =>
    new WechatPayClient({ appId: APPID, mchId: MCH, apiKey: KEY, signType: 'HMAC-SHA256', baseUrl, retryDelayMs: 5, timeoutMs: 3000, pfx: tls.clientP12, ca: tls.caCert, ...o });
  const refund = { out_trade_no: 'P123456', out_refund_no: 'R2026X', total_fee: 100, refund_fee: 40 };

  beforeAll(async () => {
    tls = makeTlsFixtures(MCH);
    server = https.createServer({ key: tls.serverKey, cert: tls.serverCert, ca: tls.caCert, requestCert: true, rejectUnauthorized: true }, srv.handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    tls.cleanup();
  });
  beforeEach(() => srv.reset());

  it('presents the p12 (passphrase defaulting to mch_id) and verifies the response', async () => {
    srv.script(ok({ out_refund_no: 'R2026X', refund_id: '50300002', refund_fee: '40' }, 'HMAC-SHA256'));
    await expect(client().refund(refund)).resolves.toMatchObject({ refund_id: '50300002', refund_fee: '40' });
    expect(srv.seen).toHaveLength(1);
    expect(srv.seen[0]).toMatchObject({ path: '/secapi/pay/refund', peerCN: MCH });
    expect(srv.seen[0].fields).toMatchObject({ sign_type: 'HMAC-SHA256', out_refund_no: 'R2026X', refund_fee: '40' });
  });

  it('the server really refuses a client without a certificate', async () => {
    const err = await new Promise<Error>((resolve) => {
      const req = https.request(`${baseUrl}/secapi/pay/refund`, { method: 'POST', ca: tls.caCert }, (res) => {
        res.resume();
        res.on('end', () => resolve(new Error(`unexpected HTTP ${res.statusCode}`)));
      });
      req.on('error', resolve);
      req.end('<xml></xml>');
    });
    expect(err.message).not.toMatch(/unexpected HTTP/);
    expect(srv.seen).toHaveLength(0);
  });

  it('without the p12 the client refuses up front, naming WECHATPAY_CERT_P12', async () => {
    const e = await thrown(client({ pfx: undefined }).refund(refund));
    expect(e).toBeInstanceOf(WechatPayError);
    expect(e).toMatchObject({ code: 'CERT_REQUIRED', message: expect.stringContaining('WECHATPAY_CERT_P12') });
    expect(srv.seen).toHaveLength(0);
  });

  it('a wrong passphrase fails clearly as CERT_INVALID', async () => {
    const e = await thrown(client({ passphrase: 'wrong' }).refund(refund));
    expect(e).toMatchObject({ name: 'WechatPayError', code: 'CERT_INVALID', message: expect.stringContaining('WECHATPAY_CERT_P12') });
    expect(srv.seen).toHaveLength(0);
  });

  it('a certificate from an untrusted CA is refused by the server: a communication error, no request served', async () => {
    const e = await thrown(client({ pfx: tls.strangerP12 }).refund(refund));
    expect(e).toBeInstanceOf(WechatPayCommunicationError);
    expect(['TLS_FAILED', 'NETWORK']).toContain(e.code);
    if (e.code === 'NETWORK') expect(e.message).toContain('WECHATPAY_CERT_P12');
    expect(srv.seen).toHaveLength(0);
  });
});
