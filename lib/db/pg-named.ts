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
 * max_prepared_statements = 0) they fail with "prepared statement ... does not exist": the first such
 * error turns naming off for the process (with a Node warning), and DATABASE_NAMED_STATEMENTS=0 sends
 * them unnamed from the start, as every other statement is.
 */

/** SQLSTATEs of a named statement the session does not have, or already has under that name. */
const INVALID_STATEMENT_NAME = '26000';
const DUPLICATE_STATEMENT = '42P05';

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
  // Off for good once the server says a named statement is missing or already there: a pooler is
  // moving clients between sessions. That statement's transaction fails (the caller's error handling
  // answers, WeChat retries a notify); every later one goes unnamed.
  let naming = true;
  const refusedNaming = (e: unknown) => {
    const code = (e as { code?: string })?.code;
    if (naming && (code === INVALID_STATEMENT_NAME || code === DUPLICATE_STATEMENT)) {
      naming = false;
      process.emitWarning(`PostgreSQL named statements turned off for this process (${code}: ${(e as Error).message}); set DATABASE_NAMED_STATEMENTS=0 behind this pooler`, { code: 'WX_PG_NAMED_STATEMENTS' });
    }
    throw e;
  };
  const wrap = (client: PoolClient): PostgresPoolClient => {
    let w = wrapped.get(client);
    if (!w) {
      w = {
        query(sqlOrCursor: unknown, parameters?: ReadonlyArray<unknown>) {
          if (typeof sqlOrCursor === 'string') {
            const name = naming ? names.get(sqlOrCursor) : undefined;
            const values = [...(parameters ?? [])];
            return name ? client.query({ name, text: sqlOrCursor, values }).catch(refusedNaming) : client.query(sqlOrCursor, values);
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
