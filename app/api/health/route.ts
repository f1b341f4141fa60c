import { getConfig } from '@/lib/config';
import { getDbHandle } from '@/lib/db';
import { sql } from 'kysely';

export const dynamic = 'force-dynamic';

/** `{ok, mode, db}`: cheap, no upstream calls; 503 when the database does not answer. */
export async function GET() {
  const config = getConfig();
  try {
    const { db, kind } = await getDbHandle();
    await sql`select 1`.execute(db);
    return Response.json({ ok: true, mode: config.mode, db: kind });
  } catch {
    return Response.json({ ok: false, mode: config.mode, db: config.dbKind, error: 'database unavailable' }, { status: 503 });
  }
}
