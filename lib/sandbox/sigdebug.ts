import { createHash, createHmac } from 'node:crypto';
import { signString, type SignType } from '../wechatpay/sign';

/**
 * The signature debugger: why a request's `sign` did not verify. Live WeChat answers only
 * `return_code=FAIL` / `签名错误`; the sandbox answers the same on the wire and, for its dashboard and
 * `GET /sandbox/sim/requests`, rebuilds the string it expected (docs/wechatpay-v2.md s.1) and re-signs
 * the request the common wrong ways, naming the first one that reproduces the received sign.
 */
export type SignCause =
  | 'sign_missing'
  | 'lowercase_sign'
  | 'sign_type_mismatch'
  | 'sign_type_not_signed'
  | 'empty_field_included'
  | 'url_encoded'
  | 'unsigned_field_included'
  | 'not_sorted'
  | 'key_missing'
  | 'key_case'
  | 'wrong_key';

/** What the debugger found for one refused request. The API key never appears in it in full. */
export interface SignDiagnosis {
  /** stringSignTemp as the sandbox built it, with the key masked (`...&key=1920****6a2d`). */
  expectedStringToSign: string;
  /** The sign the sandbox computed with the request's sign_type (MD5 when absent). */
  expectedSign: string;
  /** The `sign` field as received ('' when absent). */
  receivedSign: string;
  cause: SignCause;
  /** Language-neutral detail for the dashboard's sentence: field names, the algorithm, the variant. */
  detail: string;
}

/** `192006250b4c09247ec02edce69f6a2d` -> `1920****6a2d`: enough to tell two keys apart, not enough to sign. */
export function maskKey(key: string): string {
  return key.length >= 12 ? `${key.slice(0, 4)}****${key.slice(-4)}` : '****';
}

/** `text` with every occurrence of `key` (in any letter case) masked. */
export function maskKeyIn(text: string, key: string): string {
  if (!key) return text;
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(escaped, 'gi'), maskKey(key));
}

function digest(temp: string, key: string, type: SignType): string {
  if (type === 'HMAC-SHA256') return createHmac('sha256', key).update(temp, 'utf8').digest('hex').toUpperCase();
  return createHash('md5').update(temp, 'utf8').digest('hex').toUpperCase();
}

const join = (pairs: Array<[string, string]>, enc: (v: string) => string = (v) => v) => pairs.map(([k, v]) => `${k}=${enc(v)}`).join('&');

interface Variant {
  cause: SignCause;
  detail: string;
  /** stringSignTemp as the mistaken merchant built it. */
  temp: string;
  /** The HMAC secret they used (the key, unless its case was changed). */
  hmacKey: string;
}

/**
 * The common wrong ways of building stringSignTemp from the fields as received (document order kept),
 * each tried only where it differs from the right one.
 */
function variants(fields: Record<string, string>, key: string): Variant[] {
  const all = Object.entries(fields).filter(([k]) => k !== 'sign');
  const nonEmpty = all.filter(([, v]) => v !== '');
  const sorted = [...nonEmpty].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const right = join(sorted);
  const out: Variant[] = [];
  const add = (cause: SignCause, detail: string, temp: string, hmacKey = key) => out.push({ cause, detail, temp, hmacKey });
  const empties = all.filter(([, v]) => v === '').map(([k]) => k);
  if (empties.length) {
    const withEmpty = [...all].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    add('empty_field_included', empties.map((k) => `${k}=`).join(' '), `${join(withEmpty)}&key=${key}`);
  }
  if (fields.sign_type) add('sign_type_not_signed', `sign_type=${fields.sign_type}`, `${join(sorted.filter(([k]) => k !== 'sign_type'))}&key=${key}`);
  const uri = join(sorted, encodeURIComponent);
  if (uri !== right) add('url_encoded', 'encodeURIComponent', `${uri}&key=${key}`);
  const form = new URLSearchParams(sorted).toString();
  if (form !== right && form !== uri) add('url_encoded', 'x-www-form-urlencoded', `${form}&key=${key}`);
  const withKey = [...sorted, ['key', key] as [string, string]].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  add('unsigned_field_included', 'key=', join(withKey));
  add('unsigned_field_included', 'key=', `${join(withKey)}&key=${key}`);
  if ('sign' in fields) {
    const withSign = [...sorted, ['sign', ''] as [string, string]].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    add('unsigned_field_included', 'sign=', `${join(withSign)}&key=${key}`);
  }
  const sent = join(nonEmpty);
  if (sent !== right) add('not_sorted', nonEmpty.map(([k]) => k).join(' '), `${sent}&key=${key}`);
  add('key_missing', 'stringA', right);
  add('key_missing', 'stringA&KEY', `${right}&${key}`);
  add('key_missing', 'stringAKEY', `${right}${key}`);
  for (const k of new Set([key.toUpperCase(), key.toLowerCase()])) {
    if (k !== key) add('key_case', k === key.toUpperCase() ? 'key=UPPER' : 'key=lower', `${right}&key=${k}`, k);
  }
  if (key) add('key_case', '&KEY=', `${right}&KEY=${key}`);
  return out;
}

/**
 * Diagnoses a request whose `sign` did not verify: `fields` as parsed (every field, in the order
 * received), `key` the merchant's API key, `declared` the sign type the request asked for (its
 * `sign_type`, MD5 when absent). Tries each wrong way with the declared algorithm, then with the other;
 * if none reproduces the received sign the key itself is wrong (or the mistake is not a common one).
 */
export function diagnoseSignature(fields: Record<string, string>, key: string, declared: SignType): SignDiagnosis {
  const temp = `${signString(fields)}&key=${key}`;
  const expectedSign = digest(temp, key, declared);
  const receivedSign = fields.sign ?? '';
  const base = { expectedStringToSign: maskKeyIn(temp, key), expectedSign, receivedSign };
  const found = (cause: SignCause, detail: string): SignDiagnosis => ({ ...base, cause, detail: maskKeyIn(detail, key) });
  if (!receivedSign) return found('sign_missing', '');
  const other: SignType = declared === 'MD5' ? 'HMAC-SHA256' : 'MD5';
  const got = receivedSign.toUpperCase();
  // WeChat's rule is upper-case hex; whether live WeChat also takes lower case is UNVERIFIED, so the
  // sandbox refuses it (docs/sandbox.md, conservative choices) and says so here.
  if (got === expectedSign) return found('lowercase_sign', '');
  if (got === digest(temp, key, other)) return found('sign_type_mismatch', `sign=${other} sign_type=${fields.sign_type || '(MD5)'}`);
  const tries = variants(fields, key);
  for (const type of [declared, other]) {
    for (const v of tries) {
      if (digest(v.temp, v.hmacKey, type) === got) return found(v.cause, type === declared ? v.detail : `${v.detail} + ${type}`);
    }
  }
  // Nothing reproduces it, but its length names the other algorithm (32 hex = MD5, 64 = HMAC-SHA256).
  const lengthType: SignType | undefined = /^[0-9A-F]{32}$/.test(got) ? 'MD5' : /^[0-9A-F]{64}$/.test(got) ? 'HMAC-SHA256' : undefined;
  if (lengthType && lengthType !== declared) return found('sign_type_mismatch', `sign=${lengthType}? (${got.length} hex) sign_type=${fields.sign_type || '(MD5)'}`);
  return found('wrong_key', lengthType ? '' : 'not hex');
}
