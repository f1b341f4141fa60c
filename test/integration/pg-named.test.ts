import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type DbHandle, initDb, prepareQuery } from '@/lib/db';
import { freshDatabaseUrl } from '../helpers/db';

/**
 * Named statements on a real PostgreSQL (lib/db/pg-named.ts): with them on, a prepared query is
 * prepared once in the session that runs it (pg_prepared_statements lists it once however often it
 * runs) and gives the same results; with them off (DATABASE_NAMED_STATEMENTS=0) nothing is prepared.
 * One connection per pool, so every statement of a handle runs in the same session.
 */
describe('PostgreSQL named statements', () => {
  const handles: DbHandle[] = [];
  afterEach(async () => {
    for (const h of handles.splice(0)) await h.close();
  });

  const bump = prepareQuery((db, v: { id: string; detail: string }) =>
    db.updateTable('payment_events').set({ detail: v.detail }).where('id', '=', v.id).returning(['id', 'detail']));
  const prepared = async (h: DbHandle) =>
    (await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(h.db)).rows;

  async function run(namedStatements: boolean) {
    const h = await initDb(await freshDatabaseUrl('postgres'), { poolMax: 1, namedStatements });
    handles.push(h);
    await h.db.insertInto('payment_events').values({ id: 'ev_named', order_id: null, out_trade_no: null, source: 'notify', outcome: 'applied', detail: 'd0', raw: null, at: new Date().toISOString() }).execute();
    const results = [];
    for (let i = 1; i <= 3; i++) results.push((await bump.execute(h.db, { id: 'ev_named', detail: `d${i}` })).rows);
    expect(results).toEqual([[{ id: 'ev_named', detail: 'd1' }], [{ id: 'ev_named', detail: 'd2' }], [{ id: 'ev_named', detail: 'd3' }]]);
    return prepared(h);
  }

  it('on: the prepared query is parsed once in its session, and answers as before', async () => {
    const rows = await run(true);
    expect(rows).toHaveLength(1);
    expect(rows[0].name).toMatch(/^k_[0-9a-f]{24}$/);
    expect(rows[0].statement).toBe(bump.compile(handles[0].db, { id: 'x', detail: 'y' }).sql);
  });

  it('off: the same query, unnamed, leaves nothing prepared in the session', async () => {
    expect(await run(false)).toEqual([]);
  });

  it('a session that lost its statements (a pooler moved the client): that statement fails, naming goes off, the next run works', async () => {
    const h = await initDb(await freshDatabaseUrl('postgres'), { poolMax: 1, namedStatements: true });
    handles.push(h);
    await h.db.insertInto('payment_events').values({ id: 'ev_named', order_id: null, out_trade_no: null, source: 'notify', outcome: 'applied', detail: 'd0', raw: null, at: new Date().toISOString() }).execute();
    await bump.execute(h.db, { id: 'ev_named', detail: 'd1' });
    expect(await prepared(h)).toHaveLength(1);
    // What PgBouncer in transaction mode does to a client: the next server session has none of its statements.
    await sql`deallocate all`.execute(h.db);
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => void warnings.push(`${w.code}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      await expect(bump.execute(h.db, { id: 'ev_named', detail: 'd2' })).rejects.toMatchObject({ code: '26000' });
      expect((await bump.execute(h.db, { id: 'ev_named', detail: 'd3' })).rows).toEqual([{ id: 'ev_named', detail: 'd3' }]);
      expect(await prepared(h)).toEqual([]);
      await expect.poll(() => warnings.join('\n')).toMatch(/WX_PG_NAMED_STATEMENTS: PostgreSQL named statements turned off for this process \(26000/);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
