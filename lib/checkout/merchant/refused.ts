import { getDb, nowIso } from '../../db';
import { flushRefusals } from '../kernel';

/** One row of GET /api/merchant/refused-notifies: a route's unverified refusals of one code in one hour. */
export interface RefusedNotifyRow {
  source: 'notify' | 'refund_notify';
  code: string;
  /** Start of the hour (ISO UTC). */
  bucket: string;
  hits: number;
  firstAt: string;
  lastAt: string;
  lastSender: string | null;
  /** The id the latest hit claimed; unverified, so a hint, not a fact. */
  claimed: string | null;
  /** The first hit's reason. */
  detail: string;
  /** The first hit's body head (at most 256 bytes). */
  sample: string | null;
}

/** What the merchant sees of unverified notifies: rows newest first, and the hit totals over them. */
export interface RefusedNotifies {
  sinceHours: number;
  totals: { notify: number; refund_notify: number };
  rows: RefusedNotifyRow[];
}

/** The most rows one answer holds (2 routes x a few codes x hours stays well below it). */
const MAX_ROWS = 500;
/** How far back the merchant may look: the rows are kept 30 days. */
export const MAX_REFUSED_HOURS = 30 * 24;

/** Parses `?hours=` (default 24, 1 to MAX_REFUSED_HOURS): bad input is refused, not guessed at. */
export function parseRefusedHours(raw: string | null): { ok: true; hours: number } | { ok: false; code: 'BAD_REQUEST'; message: string } {
  if (raw === null || raw === '') return { ok: true, hours: 24 };
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1 || n > MAX_REFUSED_HOURS) {
    return { ok: false, code: 'BAD_REQUEST', message: `hours must be an integer from 1 to ${MAX_REFUSED_HOURS}` };
  }
  return { ok: true, hours: n };
}

/**
 * Unverified notifies refused in the last `hours` (the rows with a hit in that time, each with its whole
 * hour's count), aggregated per route, code and hour. This instance's not yet flushed counts are written first, so they are included.
 * Verified refusals are not here: they are on their order's timeline.
 */
export async function listRefusedNotifies(hours = 24, now: number = Date.now()): Promise<RefusedNotifies> {
  await flushRefusals();
  const db = await getDb();
  const rows = await db
    .selectFrom('refused_notifies')
    .selectAll()
    .where('last_at', '>=', nowIso(now - hours * 3_600_000))
    .orderBy('bucket', 'desc')
    .orderBy('source')
    .orderBy('code')
    .limit(MAX_ROWS)
    .execute();
  const totals = { notify: 0, refund_notify: 0 };
  for (const r of rows) totals[r.source] += Number(r.hits);
  return {
    sinceHours: hours,
    totals,
    rows: rows.map((r) => ({
      source: r.source, code: r.code, bucket: r.bucket, hits: Number(r.hits), firstAt: r.first_at, lastAt: r.last_at,
      lastSender: r.last_sender, claimed: r.claimed, detail: r.detail, sample: r.sample,
    })),
  };
}
