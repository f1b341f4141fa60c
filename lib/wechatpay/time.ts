/** Beijing time is UTC+8 all year (no daylight saving), whatever zone the server runs in. */
const CST_OFFSET_MS = 8 * 60 * 60 * 1000;

function cstParts(ms: number) {
  const d = new Date(ms + CST_OFFSET_MS); // read with getUTC*: the server's TZ never enters
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return { y: p(d.getUTCFullYear(), 4), mo: p(d.getUTCMonth() + 1), da: p(d.getUTCDate()), h: p(d.getUTCHours()), mi: p(d.getUTCMinutes()), s: p(d.getUTCSeconds()) };
}

/**
 * `yyyyMMddHHmmss` in UTC+8, as unifiedorder's time_start/time_expire and the notify's time_end use.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_2
 */
export function formatWxTime(ms: number): string {
  const t = cstParts(ms);
  return `${t.y}${t.mo}${t.da}${t.h}${t.mi}${t.s}`;
}

/** Parses `yyyyMMddHHmmss` (UTC+8) to epoch ms; undefined when malformed or not a real date. */
export function parseWxTime(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, se) - CST_OFFSET_MS;
  return formatWxTime(ms) === s ? ms : undefined; // rejects 20261332..., 25:00 and the like
}

/** `yyyy-MM-dd HH:mm:ss` in UTC+8: the refund notify's success_time and the bill's 交易时间. */
export function formatWxDateTime(ms: number): string {
  const t = cstParts(ms);
  return `${t.y}-${t.mo}-${t.da} ${t.h}:${t.mi}:${t.s}`;
}

/** `yyyyMMdd` in UTC+8: downloadbill's bill_date. */
export function formatWxDate(ms: number): string {
  return formatWxTime(ms).slice(0, 8);
}
