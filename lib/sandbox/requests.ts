import { log } from '../log';
import { randomBytes } from 'node:crypto';
import { sandboxDb } from './db';
import type { SandboxRequestsTable } from './schema';
import type { SignDiagnosis } from './sigdebug';

/** How many refused requests the sandbox keeps; older ones are deleted as new ones arrive. */
export const REQUESTS_KEPT = 200;

const seqKey = Symbol.for('wechat-checkout.sandbox-request-seq');
type SeqHolder = { [seqKey]?: number };

/**
 * A row id that sorts by arrival. The counter lives on globalThis because Next bundles each route
 * handler separately and both mch routes record here.
 */
function rowId(now: number): string {
  const g = globalThis as SeqHolder;
  const seq = (g[seqKey] = ((g[seqKey] ?? 0) + 1) % 1_000_000);
  return `${String(now).padStart(15, '0')}_${String(seq).padStart(6, '0')}_${randomBytes(4).toString('hex')}`;
}

/**
 * Records a request the sandbox refused with return_code=FAIL: the API, the return_msg it answered
 * and, for 签名错误, the debugger's diagnosis. Keeps only the newest REQUESTS_KEPT. Never throws: the
 * wire answer must not depend on the log (a failure is reported on stderr).
 */
export async function recordRefusal(api: string, reason: string, diag?: SignDiagnosis): Promise<void> {
  try {
    const db = await sandboxDb();
    const now = Date.now();
    await db
      .insertInto('sandbox_requests')
      .values({
        id: rowId(now),
        at: new Date(now).toISOString(),
        api,
        outcome: 'refused',
        reason,
        expected_string: diag?.expectedStringToSign ?? null,
        expected_sign: diag?.expectedSign ?? null,
        received_sign: diag ? diag.receivedSign.slice(0, 200) : null,
        likely_cause: diag?.cause ?? null,
        cause_detail: diag?.detail ? diag.detail.slice(0, 500) : null,
      })
      .execute();
    // Delete everything older than the REQUESTS_KEPT-th newest (nothing while there are fewer).
    await db
      .deleteFrom('sandbox_requests')
      .where('id', '<', (eb) => eb.selectFrom('sandbox_requests').select('id').orderBy('id', 'desc').limit(1).offset(REQUESTS_KEPT - 1))
      .execute();
  } catch (e) {
    log().error({ event: 'sandbox_request', err: e }, 'could not record a refused sandbox request');
  }
}

/** The newest refused requests first (at most `limit`). */
export async function listRequests(limit = REQUESTS_KEPT): Promise<SandboxRequestsTable[]> {
  const db = await sandboxDb();
  return db.selectFrom('sandbox_requests').selectAll().orderBy('id', 'desc').limit(limit).execute();
}

/** One entry of GET /sandbox/sim/requests (docs/http-api.md); absent fields are left out. */
export interface RequestJson {
  at: string;
  api: string;
  outcome: string;
  reason?: string;
  expected_string_to_sign?: string;
  expected_sign?: string;
  received_sign?: string;
  likely_cause?: string;
}

/** The JSON of GET /sandbox/sim/requests: `{requests: [...]}`, newest first. */
export async function requestsJson(): Promise<{ requests: RequestJson[] }> {
  const rows = await listRequests();
  return {
    requests: rows.map((r) => {
      const j: RequestJson = { at: r.at, api: r.api, outcome: r.outcome };
      if (r.reason !== null) j.reason = r.reason;
      if (r.expected_string !== null) j.expected_string_to_sign = r.expected_string;
      if (r.expected_sign !== null) j.expected_sign = r.expected_sign;
      if (r.received_sign !== null) j.received_sign = r.received_sign;
      if (r.likely_cause !== null) j.likely_cause = r.likely_cause;
      return j;
    }),
  };
}
