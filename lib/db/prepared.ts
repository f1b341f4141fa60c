import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import { nameStatement } from './pg-named';
import type { Database } from './schema';

/*
 * Kysely builds a query's operation tree and compiles it to SQL anew on every call: 15 to 45 µs a
 * statement on the machines this was measured on, which on a notify's hot path is as much as the
 * statement itself costs SQLite. A prepared query is built and compiled once per database, with a
 * placeholder for each value, and then only gets its parameter list filled in: the SQL text is the
 * same every time (so better-sqlite3's statement cache, ./sqlite-durable.ts, hits too).
 *
 * The placeholders are objects that stand in for the values while the query is built; Kysely turns
 * every value into a bound parameter (it never writes a value into the SQL text), so each placeholder
 * ends up in the compiled parameter list, where the real value replaces it on each run. A query built
 * from placeholders must therefore not branch on a value (`v.x ?? null` keeps the placeholder, `if
 * (v.x)` is always true): pass what the SQL needs, null included, and let the SQL decide.
 */

/**
 * Stands in for the value named `name` while the query is built. Turning it into a string or a number
 * (a build that computes with a value instead of binding it) throws: the result would be compiled in.
 * Bind values with `=`, `!=`, `<`...; `is` and `in` take constants (`is null`) or lists, not a slot.
 */
class Slot {
  constructor(readonly name: string) {}
  [Symbol.toPrimitive](): never {
    throw new TypeError(`prepared query: "${this.name}" was used as a value while the query was built; bind it instead`);
  }
}

interface Compiled {
  sql: string;
  query: CompiledQuery['query'];
  queryId: CompiledQuery['queryId'];
  /** Per parameter: the value's name, or a constant of the query itself (`'paid'` in `status = 'paid'`). */
  params: Array<{ slot: string } | { constant: unknown }>;
}

/** A query compiled once per database and run with new values (see above). */
export interface PreparedQuery<V, O> {
  /** Runs the query on `db` (a database or a transaction) with `values`; resolves to Kysely's result. */
  execute(db: Kysely<Database>, values: V): Promise<QueryResult<O>>;
  /** The SQL and the parameter list a run with `values` sends to `db`'s driver (tests look at it). */
  compile(db: Kysely<Database>, values: V): { sql: string; parameters: unknown[] };
}

/**
 * Prepares the query `build` makes: `build(db, v)` is called once per database (with `v` holding
 * placeholders) and its SQL kept; each run sends that SQL with the run's values. Every value `build`
 * reads from `v` must be given on each run: undefined is refused (Kysely would have left the column
 * out, which a prepared query cannot), null is a value. No plugins run (the app's databases have none).
 */
export function prepareQuery<V extends Record<string, unknown>, O>(build: (db: Kysely<Database>, v: V) => Compilable<O>): PreparedQuery<V, O> {
  // Keyed by the database's adapter, which a transaction shares with its database: one compilation
  // per database (and so per dialect), whichever transaction runs it.
  const cache = new WeakMap<object, Compiled>();

  const compiled = (db: Kysely<Database>): Compiled => {
    const key = db.getExecutor().adapter;
    let c = cache.get(key);
    if (!c) {
      const slots = new Proxy({} as V, { get: (_t, name) => new Slot(String(name)) });
      const q = build(db, slots).compile();
      c = {
        sql: q.sql, query: q.query, queryId: q.queryId,
        params: q.parameters.map((p) => (p instanceof Slot ? { slot: p.name } : { constant: p })),
      };
      cache.set(key, c);
      // On PostgreSQL the text is also sent as a named statement, parsed once per session (./pg-named.ts).
      nameStatement(q.sql);
    }
    return c;
  };

  const parameters = (c: Compiled, values: V): unknown[] =>
    c.params.map((p) => {
      if (!('slot' in p)) return p.constant;
      const v = values[p.slot];
      if (v === undefined) throw new TypeError(`prepared query: no value for "${p.slot}" (give null for SQL NULL)`);
      return v;
    });

  return {
    async execute(db, values) {
      const c = compiled(db);
      // The compiled query's own id: it only pairs a query with its result for plugins, and none run.
      return db.executeQuery<O>({ sql: c.sql, query: c.query, queryId: c.queryId, parameters: parameters(c, values) });
    },
    compile(db, values) {
      const c = compiled(db);
      return { sql: c.sql, parameters: parameters(c, values) };
    },
  };
}
