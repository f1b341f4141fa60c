import { describe, expect, it } from 'vitest';
import { notifyAcknowledged } from '@/lib/sandbox/notify-ack';

/*
 * What WeChat takes as a notify acknowledgement. WeChat Pay's answer in its community: "商户侧收到回调通知后
 * 返回XML格式的 SUCCESS 微信侧识别后理解为商户接收到通知...不会再重复回调通知，当返回内容不是XML格式的SUCCESS时，
 * 微信侧会认为商户侧没有收到或者处理通知，所以会重推回调通知" (developers.weixin.qq.com/community/pay/doc/
 * 0004c8304880a08cd3eab3b205b800, found with `search`); "严格按照文档要求正确返回参数SUCCESS，包括标签之类的，
 * 如果没有严格按照文档要求返回参数，就会重复通知" (community/develop/doc/00022c52928940f2e16991cc756400).
 * Merchants report that `echo 'SUCCESS'` and `<![CDATA[success]]>` are retried, and that a Spring
 * @ResponseBody that wraps the XML in quotes is too. API v3: "接收成功：HTTP应答状态码需返回200或204，无需返回应答报文".
 */
const OK = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';

describe('notifyAcknowledged (v2)', () => {
  it.each([
    ['the documented reply', OK],
    ['without CDATA or return_msg', '<xml><return_code>SUCCESS</return_code></xml>'],
    ['pretty-printed after an XML declaration', '<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n  <return_code><![CDATA[SUCCESS]]></return_code>\n  <return_msg><![CDATA[OK]]></return_msg>\n</xml>\n'],
  ])('acknowledges %s', (_what, body) => {
    expect(notifyAcknowledged(200, body, false)).toBe(true);
  });

  it.each([
    ['plain SUCCESS text', 'SUCCESS'],
    ['plain success text', 'success'],
    ['JSON', '{"return_code":"SUCCESS","return_msg":"OK"}'],
    ['lower-case success in the XML', '<xml><return_code><![CDATA[success]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'],
    ['the XML in quotes (a JSON-serialised string)', JSON.stringify(OK)],
    ['the XML after a PHP notice', `Notice: Undefined index: attach\n${OK}`],
    ['the XML with output after it', `${OK}<!-- done -->ok`],
    ['an HTML page around it', `<html><body>${OK}</body></html>`],
    ['FAIL', '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[busy]]></return_msg></xml>'],
    ['SUCCESS with spaces', '<xml><return_code><![CDATA[ SUCCESS ]]></return_code></xml>'],
    ['return_code twice', '<xml><return_code>SUCCESS</return_code><return_code>FAIL</return_code></xml>'],
    ['a differently cased tag', '<xml><Return_Code>SUCCESS</Return_Code></xml>'],
    ['an unclosed root', '<xml><return_code><![CDATA[SUCCESS]]></return_code>'],
    ['an empty body', ''],
  ])('refuses %s', (_what, body) => {
    expect(notifyAcknowledged(200, body, false)).toBe(false);
  });

  it('refuses the documented reply with any status but 200', () => {
    for (const status of [201, 204, 302, 400, 500]) expect(notifyAcknowledged(status, OK, false), String(status)).toBe(false);
  });
});

describe('notifyAcknowledged (v3)', () => {
  it('acknowledges 200 and 204 whatever the body, and nothing else', () => {
    expect(notifyAcknowledged(200, '', true)).toBe(true);
    expect(notifyAcknowledged(204, '', true)).toBe(true);
    expect(notifyAcknowledged(200, '{"code":"FAIL"}', true)).toBe(true);
    for (const status of [201, 202, 400, 500]) expect(notifyAcknowledged(status, '', true), String(status)).toBe(false);
  });
});
