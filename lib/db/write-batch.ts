import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from './schema';

/*
 * Group commit for SQLite's write transactions. SQLite has one writer and the app one connection, so
 * write transactions already run one after another; what each costs on its own is its COMMIT (the WAL
 * pages it dirtied written out, then the fsync, ./sqlite-durable.ts). Here the transactions that queue
 * while one runs go into the same SQLite transaction, each inside its own SAVEPOINT, and share one
 * COMMIT: consecutive inserts share their b-tree pages, so the batch writes far fewer pages than its
 * transactions would one by one, and one fsync covers them all.
 *
 * Each transaction keeps its own outcome: one that throws is rolled back to its savepoint (its writes
 * undone, the others kept) and its caller gets its error. Nobody hears of success before the batch's
 * COMMIT (and its fsync) is done; if the COMMIT fails, or SQLite rolls the whole transaction back under
 * a job (disk full, I/O error), every job of the batch gets the error and none of their writes remain.
 */

/** Jobs per batch: bounds what the last job of a batch waits for, and how long readers queue behind it. */
export const MAX_BATCH = 32;

// The batch's own statements, compiled once: every job runs two of them (no plugins run, so one
// query id each is enough).
const BEGIN = CompiledQuery.raw('begin immediate');
const SAVEPOINT = CompiledQuery.raw('savepoint batch_job');
const RELEASE = CompiledQuery.raw('release batch_job');
const ROLLBACK_JOB = CompiledQuery.raw('rollback to batch_job');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');

type Job = { fn: (conn: Kysely<Database>) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void };

class WriteBatcher {
  private queue: Job[] = [];
  private running = false;
  /** Batches committed and jobs they carried, for tests and the bench. */
  batches = 0;
  jobs = 0;

  constructor(private readonly db: Kysely<Database>) {}

  run<T>(fn: (conn: Kysely<Database>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) await this.batch();
    } finally {
      this.running = false;
    }
  }

  private async batch(): Promise<void> {
    const taken: Job[] = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    let connected = false;
    try {
      await this.db.connection().execute(async (conn) => {
        connected = true;
        try {
          await conn.executeQuery(BEGIN);
        } catch (error) {
          // No write lock within the busy timeout (another process holds it): every job waiting now
          // waited that long too, and gets the error now rather than a second wait each.
          taken.push(...this.queue.splice(0));
          throw error;
        }
        let committed = false;
        try {
          // Jobs that arrive while earlier ones of this batch run join it, up to MAX_BATCH.
          while (this.queue.length > 0 && taken.length < MAX_BATCH) {
            const job = this.queue.shift()!;
            taken.push(job);
            await conn.executeQuery(SAVEPOINT);
            try {
              const value = await job.fn(conn);
              await conn.executeQuery(RELEASE);
              outcomes.push({ ok: true, value });
            } catch (error) {
              // Undo this job only. If SQLite already rolled the whole transaction back, this throws
              // and the batch fails as a whole (below).
              await conn.executeQuery(ROLLBACK_JOB);
              await conn.executeQuery(RELEASE);
              outcomes.push({ ok: false, error });
            }
          }
          await conn.executeQuery(COMMIT);
          committed = true;
        } finally {
          if (!committed) await conn.executeQuery(ROLLBACK).catch(() => {});
        }
      });
    } catch (error) {
      // No connection at all (the database was closed): every job waiting gets the error, or the
      // drain loop would ask again at once, for ever, without the event loop ever turning.
      if (!connected) taken.push(...this.queue.splice(0));
      for (const job of taken) job.reject(error);
      return;
    }
    this.batches++;
    this.jobs += taken.length;
    taken.forEach((job, i) => {
      const o = outcomes[i];
      if (o.ok) job.resolve(o.value);
      else job.reject(o.error);
    });
  }
}

const batchers = new WeakMap<Kysely<Database>, WriteBatcher>();

/**
 * Runs `fn` as a write transaction on the SQLite database `db`, batched with the others that queue
 * meanwhile (see above); resolves once its batch is committed and on disk. `fn` must do its database
 * work through the connection it is given, and nothing slow besides: the batch waits for it.
 */
export function batchedWrite<T>(db: Kysely<Database>, fn: (conn: Kysely<Database>) => Promise<T>): Promise<T> {
  let b = batchers.get(db);
  if (!b) batchers.set(db, (b = new WriteBatcher(db)));
  return b.run(fn);
}

/** How many batches and jobs `db`'s batcher has committed (jobs ÷ batches is the mean batch size). */
export function batchStats(db: Kysely<Database>): { batches: number; jobs: number } {
  const b = batchers.get(db);
  return { batches: b?.batches ?? 0, jobs: b?.jobs ?? 0 };
}
