import { createHash, timingSafeEqual } from 'node:crypto';
import { getConfig } from '../../config';
import { metricsText } from '../../metrics';

/** GET /api/metrics's answer: the Prometheus text, or why not (401: no or wrong token; 403: live mode without METRICS_TOKEN). */
export type MetricsScrape =
  | { ok: true; contentType: string; body: string }
  | { ok: false; status: 401 | 403; code: 'UNAUTHORIZED' | 'METRICS_TOKEN_MISSING'; message: string };

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * The scrape, guarded: with METRICS_TOKEN set, only `Authorization: Bearer <token>` gets it (compared
 * in constant time over hashes, so neither the content nor the length leaks). Live mode without a
 * token serves nothing: the numbers tell a competitor your sales and an attacker your error rates.
 * Sandbox mode without a token is open, for local dashboards.
 */
export async function scrapeMetrics(authorization: string | null): Promise<MetricsScrape> {
  const { mode, metricsToken } = getConfig();
  if (!metricsToken) {
    if (mode === 'live') {
      return { ok: false, status: 403, code: 'METRICS_TOKEN_MISSING', message: 'metrics are not served in live mode until METRICS_TOKEN is set (see npm run doctor)' };
    }
  } else {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m || !timingSafeEqual(sha256(m[1]), sha256(metricsToken))) {
      return { ok: false, status: 401, code: 'UNAUTHORIZED', message: 'send Authorization: Bearer <METRICS_TOKEN>' };
    }
  }
  return { ok: true, ...(await metricsText()) };
}
