import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type DbHandle, initDb, prepareQuery } from '@/lib/db';

/**
 * Prepared queries (lib/db/prepared.ts) on real SQLite databases: built and compiled once per database
 * (a transaction shares its database's), run with each call's values, constants of the query kept,
 * and a missing value refused before anything runs.
 */
describe('prepareQuery', () => {
  const handles: DbHandle[] = [];
  afterEach(async () => {
    for (const h of handles.splice(0)) await h.close();
  });
  async function open(): Promise<DbHandle> {
    const h = await initDb(`file:${path.join(mkdtempSync(path.join(os.tmpdir(), 'prep-')), 'p.db')}`);
    handles.push(h);
    return h;
  }

  type V = { id: string; name: string; note: string | null };
  function counted() {
    let builds = 0;
    const insert = prepareQuery((db, v: V) => {
      builds++;
      // 'prepared' (and source, outcome) are the query's own constants: they stay whatever the values.
      return db.insertInto('payment_events').values({ id: v.id, detail: v.name, raw: v.note, out_trade_no: 'prepared', order_id: null, source: 'notify', outcome: 'applied', at: '2026-01-01T00:00:00.000Z' });
    });
    return { insert, builds: () => builds };
  }
  const read = (h: DbHandle) => h.db.selectFrom('payment_events').select(['id', 'detail', 'raw', 'out_trade_no']).where('id', 'like', 'p-%').orderBy('id').execute();

  it('compiles once per database, shares it with transactions, and runs each call with its own values', async () => {
    const a = await open();
    const b = await open();
    const { insert, builds } = counted();
    await insert.execute(a.db, { id: 'p-one', name: 'One', note: 'first' });
    await insert.execute(a.db, { id: 'p-two', name: 'Two', note: null });
    await a.db.transaction().execute((trx) => insert.execute(trx, { id: 'p-three', name: 'Three', note: 'in a transaction' }));
    expect(builds()).toBe(1);
    await insert.execute(b.db, { id: 'p-four', name: 'Four', note: null });
    expect(builds()).toBe(2);

    expect(await read(a)).toEqual([
      { id: 'p-one', detail: 'One', raw: 'first', out_trade_no: 'prepared' },
      { id: 'p-three', detail: 'Three', raw: 'in a transaction', out_trade_no: 'prepared' },
      { id: 'p-two', detail: 'Two', raw: null, out_trade_no: 'prepared' },
    ]);
    expect(await read(b)).toEqual([{ id: 'p-four', detail: 'Four', raw: null, out_trade_no: 'prepared' }]);

    // The same SQL text every time; only the parameters change.
    const one = insert.compile(a.db, { id: 'x', name: 'X', note: null });
    const two = insert.compile(a.db, { id: 'y', name: 'Y', note: 'n' });
    expect(two.sql).toBe(one.sql);
    expect(one.parameters).toEqual(expect.arrayContaining(['x', 'X', null, 'prepared']));
    expect(two.parameters).toEqual(expect.arrayContaining(['y', 'Y', 'n', 'prepared']));
  });

  it('returns what the query returns (RETURNING, selects)', async () => {
    const h = await open();
    const { insert } = counted();
    await insert.execute(h.db, { id: 'p-ret', name: 'Before', note: null });
    const rename = prepareQuery((db, v: { id: string; detail: string }) => db.updateTable('payment_events').set({ detail: v.detail }).where('id', '=', v.id).returning(['id', 'detail']));
    expect((await rename.execute(h.db, { id: 'p-ret', detail: 'After' })).rows).toEqual([{ id: 'p-ret', detail: 'After' }]);
    expect((await rename.execute(h.db, { id: 'p-none', detail: 'After' })).rows).toEqual([]);
  });

  it('refuses a missing value, naming it, and writes nothing', async () => {
    const h = await open();
    const { insert } = counted();
    await expect(insert.execute(h.db, { id: 'p-bad', name: 'Bad' } as V)).rejects.toThrow(/no value for "note" \(give null for SQL NULL\)/);
    expect(await read(h)).toEqual([]);
  });

  it('a build that computes with a value instead of binding it is refused at its first run, naming the value', async () => {
    const h = await open();
    const bad = prepareQuery((db, v: { id: string }) => db.selectFrom('payment_events').select('id').where('id', '=', `ev_${v.id}`));
    await expect(bad.execute(h.db, { id: 'x' })).rejects.toThrow(/"id" was used as a value while the query was built; bind it instead/);
  });
});
