import { XMLParser } from 'fast-xml-parser';
import { WechatPayXmlError } from './errors';
import type { WxFields } from './sign';

/** Inbound XML larger than this is refused before parsing (WeChat's XXE advisory asks for a cap). */
export const MAX_XML_BYTES = 64 * 1024;

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false, // every value stays text: out_trade_no `0012` must stay `0012`
  parseAttributeValue: false,
  trimValues: false,
  // Only the five predefined XML entities (&amp; &lt; ...) are decoded: DOCTYPE (and so every declared
  // entity) is refused before the parser sees the text, and HTML entities stay off.
  processEntities: true,
  htmlEntities: false,
  cdataPropName: false,
  isArray: () => false,
});

/**
 * Builds a v2 request/response body: root `<xml>`, strings in CDATA, numeric strings bare (as WeChat's
 * examples do). Undefined and empty fields are left out, matching what the signature covers.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_2
 */
export function buildXml(fields: WxFields): string {
  let out = '<xml>';
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === '') continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new WechatPayXmlError(`bad XML field name: ${k}`, { code: 'XML_FIELD' });
    out += /^\d+$/.test(v) ? `<${k}>${v}</${k}>` : `<${k}>${cdata(v)}</${k}>`;
  }
  return `${out}</xml>`;
}

function cdata(v: string): string {
  // `]]>` cannot appear inside one CDATA section: split it across two.
  return `<![CDATA[${v.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

/**
 * Parses a v2 XML body (request, response or notify) into flat string fields, never coercing numbers. Refuses, before parsing: bodies over `maxBytes`,
 * any DOCTYPE or ENTITY declaration (XXE and entity-expansion bombs), and anything whose root is not
 * `<xml>` (or `rootName`, e.g. `root` for a decrypted refund req_info).
 */
export function parseXml(body: string | Buffer, opts: { maxBytes?: number; rootName?: string } = {}): Record<string, string> {
  const maxBytes = opts.maxBytes ?? MAX_XML_BYTES;
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  if (size > maxBytes) throw new WechatPayXmlError(`XML body over ${maxBytes} bytes`, { code: 'XML_TOO_LARGE' });
  const text = (typeof body === 'string' ? body : body.toString('utf8')).replace(/^\uFEFF/, '');
  if (text.trim() === '') throw new WechatPayXmlError('empty XML body', { code: 'XML_EMPTY' });
  // Any markup declaration other than CDATA or a comment (DOCTYPE, ENTITY, ELEMENT...) is refused:
  // v2 messages never carry one, and they are how XXE and entity-expansion bombs get in.
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text) || /<!(?!\[CDATA\[|--)/.test(text)) {
    throw new WechatPayXmlError('XML with DOCTYPE or ENTITY refused', { code: 'XML_DOCTYPE' });
  }
  const root = opts.rootName ?? 'xml';
  let parsed: unknown;
  try {
    parsed = parser.parse(text, true);
  } catch (e) {
    throw new WechatPayXmlError('malformed XML', { code: 'XML_MALFORMED', cause: e });
  }
  const node = (parsed as Record<string, unknown> | null)?.[root];
  if (node === undefined || typeof parsed !== 'object' || parsed === null) {
    throw new WechatPayXmlError(`XML root is not <${root}>`, { code: 'XML_ROOT' });
  }
  const out: Record<string, string> = {};
  if (node === '' || node === null) return out;
  if (typeof node !== 'object') throw new WechatPayXmlError(`XML root <${root}> has no fields`, { code: 'XML_ROOT' });
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === '#text') {
      // Indentation between fields is fine; loose text beside fields is not a v2 message.
      if (typeof v === 'string' && v.trim() === '') continue;
      throw new WechatPayXmlError(`text mixed with fields in <${root}>`, { code: 'XML_MIXED' });
    }
    if (typeof v === 'string') out[k] = v;
    else if (v === null || v === undefined) out[k] = '';
    else throw new WechatPayXmlError(`nested or repeated XML field ${k}`, { code: 'XML_NESTED' });
  }
  return out;
}
