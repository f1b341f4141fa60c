import path from 'node:path';
import { Worker } from 'node:worker_threads';

/*
 * SQLite's WAL checkpoints, off the event loop.
 *
 * In WAL mode every commit appends pages to the WAL, and once the WAL holds 1000 pages the commit that
 * crossed the line copies them back into the database file (a checkpoint), fsyncing the WAL before and
 * the database after: on the app's one connection, synchronously, on the event loop. Measured under a
 * flood of payments: every eighth commit or so took 9 to 11 ms instead of 1, with every request in
 * flight standing still meanwhile, and checkpoints were 40 % of the time spent in COMMIT.
 *
 * So the app's connection runs with wal_autocheckpoint = 0 and a worker thread with a connection of
 * its own runs PASSIVE checkpoints: one after commits have happened, at most one at a time and one
 * per MIN_INTERVAL_MS, each copying whatever was committed before it started. PASSIVE never blocks
 * the app's reads or writes (nor waits for them); what it could not copy, the next one does (and
 * RESTART_FRAMES keeps the WAL from growing under a stream of commits that never pauses). The durability of commits is not
 * the checkpoint's business (each commit's WAL is fsynced before it is answered, ./sqlite-durable.ts),
 * and the checkpoint itself syncs as SQLite always does (synchronous=NORMAL: WAL, then database).
 *
 * If the worker cannot start (better-sqlite3 not found from its thread) or dies, the app's connection
 * gets its automatic checkpoints back (`onFallback`): a WAL that nobody checkpoints would grow forever.
 */

/** The worker: one connection, a PASSIVE checkpoint per request, its result posted back. Plain JS, evaluated. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
let Database;
for (const from of workerData.resolveFrom) {
  try { Database = createRequire(from)('better-sqlite3'); break; } catch {}
}
if (!Database) throw new Error('better-sqlite3 not found from ' + workerData.resolveFrom.join(', '));
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
parentPort.postMessage({ ready: true });
parentPort.on('message', (m) => {
  if (m === 'close') { db.close(); parentPort.close(); return; }
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ busy: r.busy, log: r.log, checkpointed: r.checkpointed });
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) });
  }
});
`;

/** The shortest time between the starts of two checkpoints, in ms. */
export const MIN_INTERVAL_MS = 100;

/** Checkpoints failing in a row (I/O errors) after which SQLite's own checkpoints take over. */
export const MAX_FAILURES = 3;

/** The longest the app's connection waits for a settle's checkpoint (a slow disk): then it goes on without. */
export const SETTLE_MAX_MS = 200;

/**
 * WAL frames past which the app's connection waits, once, for a checkpoint before its next use (and
 * again only after another RESTART_FRAMES, if the WAL could not start over: another process reading).
 * SQLite writes a WAL from its start again (instead of appending) only when a write transaction
 * begins on a WAL that is checkpointed to its end; under a steady stream of commits the worker's
 * checkpoint is always a commit or two behind, so the WAL would grow for as long as the stream lasts
 * (270 MB in a test of 8,000 payments). The wait is a promise, not the event loop's: a few
 * milliseconds for the writes queued behind it, every RESTART_FRAMES pages (SQLite's own checkpoint
 * line, 1000 pages, is where its on-loop checkpoint would have stalled everything instead).
 */
export const RESTART_FRAMES = 1000;

/** What the checkpointer has done, for tests and the bench. */
export interface CheckpointStats {
  /** The worker is running and the app's connection has no automatic checkpoints. */
  active: boolean;
  /** Checkpoints run by the worker. */
  checkpoints: number;
  /** Times the app's connection waited for a checkpoint to let SQLite write the WAL from its start (see RESTART_FRAMES). */
  settles: number;
  /** Commits are waiting for a checkpoint (one is running or due); false: the last one came after every commit. */
  owed: boolean;
  /** The last one's WAL size and frames copied (equal: the WAL was copied whole). */
  last: { log: number; checkpointed: number } | null;
}

/** Runs checkpoints of one SQLite file in a worker thread (see above). */
export interface Checkpointer {
  /** A commit happened: a checkpoint will follow (at once, or after the one running). */
  noteCommit(): void;
  /**
   * Called by the app's connection between uses, holding it: when a checkpoint has found the WAL at
   * RESTART_FRAMES or more since the last settle, a promise that resolves once a checkpoint started
   * now has finished (see RESTART_FRAMES); otherwise null, at once.
   */
  settle(): Promise<void> | null;
  stats(): CheckpointStats;
  /** Stops the worker and closes its connection (before the app's own closes, which checkpoints last). */
  close(): Promise<void>;
}

/**
 * Starts the checkpoint worker for the database file `file`. `onActive` is called once the worker is
 * ready (turn the app's automatic checkpoints off), `onFallback` if it fails or dies while the app's
 * connection is open (turn them back on). `resolveFrom` lists where the worker looks for better-sqlite3.
 */
export function startCheckpointer(
  file: string,
  hooks: { onActive: () => void; onFallback: (error: unknown) => void },
  resolveFrom: string[] = [process.argv[1], path.join(process.cwd(), 'package.json')].filter(Boolean),
): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, resolveFrom } });
  // An idle worker must not keep the process alive (tests, CLI tools, shutdown); one with a checkpoint
  // running, a write waiting for it or a close in progress must, or the process could end in the middle.
  worker.unref();
  let active = false;
  let closing = false;
  let exited = false;
  let failed = false;
  let running = false;
  let pending = false;
  /** A settle waits: the next checkpoint starts as soon as the running one ends, not after the interval. */
  let urgent = false;
  let started = 0;
  let done = 0;
  /** `done` when a checkpoint last reported a WAL of RESTART_FRAMES or more, and when a settle last ended. */
  let bigAt = 0;
  let settledAt = 0;
  let settles = 0;
  /** The WAL's size when the last settle ended; a smaller one since means it started over. */
  let settledLog = 0;
  let failures = 0;
  let waiters: Array<{ seq: number; resolve: () => void }> = [];
  let last: CheckpointStats['last'] = null;

  const hold = () => {
    if (running || waiters.length > 0 || closing) worker.ref();
    else worker.unref();
  };

  let timer: NodeJS.Timeout | null = null;
  let lastStart = 0;
  const start = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!active) return;
    running = true;
    pending = false;
    urgent = false;
    started++;
    lastStart = Date.now();
    worker.postMessage('checkpoint');
    hold();
  };
  // At most one checkpoint running, and one started per MIN_INTERVAL_MS: each copies a page once
  // however many commits rewrote it since the last, and syncs twice whatever it copies.
  const request = () => {
    if (!active) return;
    if (running || timer) {
      pending = true;
      return;
    }
    const wait = lastStart + MIN_INTERVAL_MS - Date.now();
    if (wait <= 0) return start();
    timer = setTimeout(start, wait);
    timer.unref();
  };
  const release = () => {
    const w = waiters;
    waiters = [];
    for (const x of w) x.resolve();
  };
  // Once only (an error is followed by the exit), and not when we stopped it ourselves. Whoever waits
  // for a checkpoint stops waiting: the app's connection checkpoints for itself from now on.
  const fail = (error: unknown) => {
    active = false;
    running = false;
    pending = false;
    if (timer) clearTimeout(timer);
    timer = null;
    release();
    if (failed || closing) return;
    failed = true;
    hooks.onFallback(error);
  };

  worker.on('message', (m: { ready?: boolean; log?: number; checkpointed?: number; error?: string }) => {
    if (m.ready) {
      if (closing) return;
      active = true;
      hooks.onActive();
      return;
    }
    running = false;
    done++;
    if (m.error !== undefined) {
      // An I/O error may pass; several in a row hand checkpoints back to SQLite (a WAL must not grow for ever).
      if (++failures >= MAX_FAILURES) return fail(new Error(`checkpoint failed ${failures} times in a row: ${m.error}`));
    } else {
      failures = 0;
      last = { log: m.log!, checkpointed: m.checkpointed! };
      if (last.log < settledLog) settledLog = 0;
      if (last.log >= Math.max(RESTART_FRAMES, settledLog + RESTART_FRAMES)) bigAt = done;
    }
    if (waiters.some((w) => w.seq <= done)) {
      settledAt = done;
      settles++;
      settledLog = last?.log ?? 0;
      waiters = waiters.filter((w) => (w.seq <= done ? (w.resolve(), false) : true));
    }
    if (pending) {
      if (urgent) start();
      else request();
    }
    hold();
  });
  worker.on('error', fail);
  worker.on('exit', (code) => {
    exited = true;
    fail(new Error(`checkpoint worker exited with code ${code}`));
  });

  const settle = (): Promise<void> | null => {
    if (!active || bigAt <= settledAt) return null;
    let seq: number;
    if (running) {
      // The running one may have started before the last commit: the next one, at once.
      seq = started + 1;
      pending = true;
      urgent = true;
    } else {
      start();
      seq = started;
    }
    return new Promise<void>((resolve) => {
      // Bounded: on a slow disk the connection goes on without the restart rather than stall everyone.
      const t = setTimeout(() => {
        // Counted as settled: the next use does not wait again for this same WAL.
        settledAt = Math.max(settledAt, bigAt);
        resolve();
      }, SETTLE_MAX_MS);
      waiters.push({ seq, resolve: () => {
        clearTimeout(t);
        resolve();
      } });
      hold();
    });
  };

  return {
    noteCommit: request,
    settle,
    stats: () => ({ active, checkpoints: done, settles, owed: running || pending || timer !== null, last }),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        active = false;
        if (timer) clearTimeout(timer);
        timer = null;
        release();
        if (exited) return resolve();
        hold();
        worker.once('exit', () => resolve());
        worker.postMessage('close');
      }),
  };
}
