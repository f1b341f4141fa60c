import { closeDbHandle } from './db';
import { log } from './log';

/*
 * Graceful shutdown on SIGTERM (and SIGINT), installed from instrumentation.ts.
 *
 * `next start` (and the standalone server.js, which runs the same start-server) registers its own
 * SIGTERM/SIGINT handler before instrumentation runs, unless NEXT_MANUAL_SIG_HANDLE is set. In Next 16
 * that handler closes the HTTP server (no new connections; server.close() waits for the requests in
 * flight), awaits the server's close (pending `after()` work included), then calls process.exit(143).
 * On its own it would exit while a webhook delivery or a reconciler round is still running, and
 * without closing the database. NEXT_MANUAL_SIG_HANDLE is no way out: it drops Next's handler and with
 * it the only code that can close Next's HTTP server (vercel/next.js#56810, #83667).
 *
 * So this takes Next's handlers off the signal and runs them itself, as one step of the shutdown:
 *   1. mark the instance as shutting down (/api/ready answers 503) and stop the background workers
 *      from starting anything new (reconciler timer, webhook deliverer, sandbox notifier);
 *   2. at the same time, Next's handler: stop accepting, let in-flight requests (notifies among them)
 *      and their after() work finish. Its closing process.exit() is held back and taken as "Next is done";
 *   3. wait for the reconciler round in progress (its `finally` releases the advisory lock), the
 *      webhook attempts and sandbox notifies in flight (each recorded), the refused-notify counts;
 *   4. close the database (pg pool or SQLite file) and exit 0.
 * SHUTDOWN_TIMEOUT_MS bounds it all: past it the process logs what it was waiting for and exits 1.
 */

/** What the shutdown stops and drains, given by lib/startup.ts (which knows the workers). */
export interface ShutdownSteps {
  /** Stops new background work; resolves once the work in flight is done. */
  drainWorkers: () => Promise<void>;
  /** Marks the instance as shutting down (readiness). */
  markShuttingDown: () => void;
  /** Writes whatever is still buffered (refused-notify counts). */
  flush: () => Promise<void>;
  timeoutMs: number;
}

const key = Symbol.for('wechat-checkout.shutdown');
type Holder = { [key]?: { steps: ShutdownSteps; started: boolean } };

type SignalName = 'SIGTERM' | 'SIGINT';
type Listener = (signal: SignalName) => void;

/** Installs the handler once per process; Next's handlers already registered for the signals become step 2. */
export function installGracefulShutdown(steps: ShutdownSteps): void {
  const g = globalThis as Holder;
  if (g[key]) {
    g[key].steps = steps;
    return;
  }
  const state = { steps, started: false };
  g[key] = state;
  const realExit = process.exit.bind(process);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const nextHandlers = process.listeners(signal) as Listener[];
    for (const h of nextHandlers) process.removeListener(signal, h);
    process.on(signal, () => {
      if (state.started) return; // a second signal (Ctrl-C twice, a supervisor repeating itself) changes nothing
      state.started = true;
      void shutdown(signal, nextHandlers, state.steps, realExit);
    });
  }
}

async function shutdown(signal: SignalName, nextHandlers: Listener[], steps: ShutdownSteps, realExit: (code?: number) => never): Promise<void> {
  const started = performance.now();
  const waiting = new Set(['http', 'workers']);
  log().info({ event: 'shutdown', phase: 'start', signal, timeout_ms: steps.timeoutMs }, 'shutting down: finishing in-flight work');
  const deadline = setTimeout(() => {
    log().error({ event: 'shutdown', phase: 'timeout', waiting: [...waiting], duration_ms: Math.round(performance.now() - started) }, 'shutdown took too long; exiting');
    realExit(1);
  }, steps.timeoutMs);
  try {
    steps.markShuttingDown();
    await Promise.all([
      runNextHandlers(signal, nextHandlers).then(() => waiting.delete('http')),
      steps.drainWorkers().then(() => waiting.delete('workers')),
    ]);
    await steps.flush();
    await closeDbHandle();
  } catch (e) {
    clearTimeout(deadline);
    log().error({ event: 'shutdown', phase: 'failed', err: e }, 'shutdown failed');
    realExit(1);
  }
  clearTimeout(deadline);
  log().info({ event: 'shutdown', phase: 'done', signal, duration_ms: Math.round(performance.now() - started) }, 'shut down cleanly');
  realExit(0);
}

/**
 * Runs Next's own signal handlers and resolves when they call process.exit, which in Next 16 they do
 * only after the HTTP server closed (in-flight requests answered) and the server's close hooks ran.
 * The exit is held back: the database must stay open until then, and closed before the real exit.
 * Without Next's handlers (NEXT_MANUAL_SIG_HANDLE set, or not served by next), resolves at once.
 */
function runNextHandlers(signal: SignalName, handlers: Listener[]): Promise<void> {
  if (handlers.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const realExit = process.exit;
    process.exit = ((code?: number) => {
      process.exit = realExit;
      log().debug({ event: 'shutdown', phase: 'http_closed', next_exit_code: code }, 'Next closed the HTTP server');
      resolve();
    }) as typeof process.exit;
    for (const h of handlers) h(signal);
  });
}
