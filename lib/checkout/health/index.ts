import { getConfig } from '../../config';
import { pingDb } from '../../db';

/**
 * The instance's operational surface: liveness (/api/health), readiness (/api/ready), the guarded
 * metrics scrape (/api/metrics), and the shutdown flag readiness reports.
 */
export { checkReadiness, markShuttingDown, type Readiness } from './ready';
export { scrapeMetrics, type MetricsScrape } from './metrics';

/** GET /api/health's answer: cheap, no upstream calls; `ok: false` when the database does not answer. */
export type Health = { ok: true; mode: string; db: string } | { ok: false; mode: string; db: string; error: string };

/**
 * Liveness: the mode and one `select 1` on the process's database. The capability is this one
 * function; the route only turns `ok: false` into a 503.
 */
export async function checkHealth(): Promise<Health> {
  const config = getConfig();
  try {
    return { ok: true, mode: config.mode, db: await pingDb() };
  } catch {
    return { ok: false, mode: config.mode, db: config.dbKind, error: 'database unavailable' };
  }
}
