const CST_OFFSET_MS = 8 * 60 * 60 * 1000;

/**
 * RFC 3339 in UTC+8 with an explicit offset, as v3's time_expire wants ("2026-11-24T20:00:00+08:00");
 * Beijing has no daylight saving, so the offset is fixed whatever the server's zone.
 */
export function formatRfc3339Cst(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000 + CST_OFFSET_MS).toISOString().slice(0, 19)}+08:00`;
}

/** Parses an RFC 3339 instant with an offset (success_time, expire_time) to epoch ms; undefined when malformed. */
export function parseRfc3339(s: string | undefined): number | undefined {
  if (typeof s !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}
