import { formatWxDateTime } from './wechatpay/time';

/*
 * China (UTC+8) calendar days and times as people read them: merchant filters, totals, the CSV, the
 * buyer's order page. UI-safe (no Node APIs), so client components use it too.
 */

/** China Standard Time has no DST: a fixed +8h offset is exact. */
const CST_MS = 8 * 60 * 60 * 1000;

/** `yyyy-MM-dd` of the China (UTC+8) calendar day containing `ms`. */
export function chinaDate(ms: number = Date.now()): string {
  return new Date(ms + CST_MS).toISOString().slice(0, 10);
}

/** The UTC ISO instants bounding China day `yyyy-MM-dd`: [start, end). Undefined for malformed dates. */
export function chinaDayBounds(date: string): { start: string; end: string } | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const startMs = Date.parse(`${date}T00:00:00.000Z`) - CST_MS;
  if (!Number.isFinite(startMs) || new Date(startMs + CST_MS).toISOString().slice(0, 10) !== date) return undefined;
  return { start: new Date(startMs).toISOString(), end: new Date(startMs + 24 * 60 * 60 * 1000).toISOString() };
}

/** ISO UTC text shown to a merchant in China time: `2026-11-22 20:13:05`. */
export function formatChinaTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  return formatWxDateTime(ms);
}
