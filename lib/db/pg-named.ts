import { createHash } from 'node:crypto';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type { Pool, PoolClient } from 'pg';

/*
 * PostgreSQL parses and plans every statement it is sent, unless the statement was prepared on that
 * session under a name. The app's hot statements (./prepared.ts: a payment's, its audit row's, its
 * webhook event's) are sent named: each of the pool's sessions parses one once, and afterwards only
 * binds values. On the machine this was measured on that halved the database's CPU per payment
 * (0.68 to 0.33 ms), which shares the cores with the app.
 *
 * A prepared statement keeps the result columns it was planned with: one returning `*` fails ("cached
 * plan must not change result type") once another instance's migration adds a column to its table,
 * as in a rolling deploy. The named statements therefore list their columns (schema ORDER_COLUMNS).
 *
 * A named statement lives in the session that prepared it. Behind a pooler that hands one client's
 * statements to other sessions (PgBouncer in transaction mode before 1.21, or with
 * max_prepared_statements = 0) they fail with "prepared statement ... does not exist":
 * DATABASE_NAMED_STATEMENTS=0 sends them unnamed, as every other statement is.
 */

/** SQL text of the statements to send named, with their names. */
const names = new Map<string, string>();

/** Sends `sql` named from now on, on PostgreSQL databases opened with named statements on. */
export function nameStatement(sql: string): void {
  if (!names.has(sql)) names.set(sql, `k_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`);
}

/**
 * `pool` as Kysely's PostgresDialect uses it, with the statements given to nameStatement sent as named
 * prepared statements. Each pg client is wrapped once (Kysely keys its connections by client).
 */
export function namedStatementPool(pool: Pool): PostgresPool {
  const wrapped = new WeakMap<PoolClient, PostgresPoolClient>();
  const wrap = (client: PoolClient): PostgresPoolClient => {
    let w = wrapped.get(client);
    if (!w) {
      w = {
        query(sqlOrCursor: unknown, parameters?: ReadonlyArray<unknown>) {
          if (typeof sqlOrCursor === 'string') {
            const name = names.get(sqlOrCursor);
            const values = [...(parameters ?? [])];
            return name ? client.query({ name, text: sqlOrCursor, values }) : client.query(sqlOrCursor, values);
          }
          return client.query(sqlOrCursor as never);
        },
        release: () => client.release(),
      } as unknown as PostgresPoolClient;
      wrapped.set(client, w);
    }
    return w;
  };
  return { connect: async () => wrap(await pool.connect()), end: () => pool.end() };
}
