import { getConfig } from '../../config';
import { getDbHandle, migrationStatus, type MigrationStatus } from '../../db';
import { reconcilerStatus, type ReconcilerStatus } from '../reconciler';

/**
 * GET /api/ready's answer (docs/http-api.md). `ok` is what a load balancer or an orchestrator acts on:
 * true when this instance can serve a payment right now. The reconciler is reported, not required: it
 * runs on one instance at a time (PostgreSQL) and a quiet or lock-less instance serves buyers fine.
 */
export interface Readiness {
  ok: boolean;
  mode: string;
  /** Set once a SIGTERM started the graceful shutdown: the instance finishes what it has and takes nothing new. */
  shuttingDown: boolean;
  db: { ok: boolean; kind: string; error?: string };
  migrations: MigrationStatus | null;
  reconciler: ReconcilerStatus | null;
}

const shutdownKey = Symbol.for('wechat-checkout.shutting-down');
type Holder = { [shutdownKey]?: boolean };

/** Marks this process as shutting down (lib/shutdown.ts), so /api/ready answers 503 from now on. */
export function markShuttingDown(): void {
  (globalThis as Holder)[shutdownKey] = true;
}

/**
 * Readiness: the database answers, every migration this code ships is applied (and none it does not
 * know), and the instance is not shutting down; plus where the reconciler and its lock stand. A few
 * cheap queries, no upstream calls.
 */
export async function checkReadiness(): Promise<Readiness> {
  const config = getConfig();
  const shuttingDown = (globalThis as Holder)[shutdownKey] === true;
  let db: Readiness['db'];
  let migrations: MigrationStatus | null = null;
  let reconciler: ReconcilerStatus | null = null;
  try {
    const handle = await getDbHandle();
    migrations = await migrationStatus(handle.db);
    db = { ok: true, kind: handle.kind };
    reconciler = await reconcilerStatus(config);
  } catch (e) {
    db = migrations ? { ok: true, kind: config.dbKind } : { ok: false, kind: config.dbKind, error: `database unavailable: ${(e as Error).message}` };
  }
  const ok = db.ok && migrations !== null && migrations.ok && !shuttingDown;
  return { ok, mode: config.mode, shuttingDown, db, migrations, reconciler };
}
