import { getConfig } from '@/lib/config';
import { pingDb } from '@/lib/db';

export const dynamic = 'force-dynamic';

/** `{ok, mode, db}`: cheap, no upstream calls; 503 when the database does not answer. */
export async function GET() {
  const config = getConfig();
  try {
    return Response.json({ ok: true, mode: config.mode, db: await pingDb() });
  } catch {
    return Response.json({ ok: false, mode: config.mode, db: config.dbKind, error: 'database unavailable' }, { status: 503 });
  }
}
