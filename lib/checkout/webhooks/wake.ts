/**
 * How emitEvent, which runs in whatever bundle the caller lives in, reaches the deliverer of the same
 * process (started from instrumentation, another bundle): through globalThis. Nothing here touches the
 * database; without a deliverer in this process a note is a no-op and other instances poll.
 */
const key = Symbol.for('wechat-checkout.webhook-wake');

/** What the deliverer registers. */
export interface WakeTarget {
  /** An event was written in a transaction that has not committed yet: look until its row shows. */
  expect(eventId: string): void;
  /** Look for due deliveries now. */
  kick(): void;
}

type Holder = { [key]?: WakeTarget };

/** Called by the deliverer when it starts (and with undefined when it stops). */
export function registerWakeTarget(t: WakeTarget | undefined): void {
  const g = globalThis as Holder;
  if (t) g[key] = t;
  else delete g[key];
}

/** emitEvent's note: the event's deliveries exist once its transaction commits. */
export function noteEmitted(eventId: string): void {
  (globalThis as Holder)[key]?.expect(eventId);
}

/** A resend or anything else committed already: deliver now. */
export function kickDeliverer(): void {
  (globalThis as Holder)[key]?.kick();
}

/** A one-shot timer where the EARLIEST request wins: a later "in 5 s" never pushes back a pending "now". */
export interface Wake {
  in(ms: number): void;
  cancel(): void;
}

/** Makes a Wake that runs `run` once at the earliest requested time (at most `maxMs` away). */
export function createWake(run: () => void, maxMs: number): Wake {
  let timer: NodeJS.Timeout | undefined;
  let at: number | undefined;
  return {
    in(ms: number) {
      const delay = Math.max(0, Math.min(Number.isFinite(ms) ? ms : 0, maxMs));
      const due = Date.now() + delay;
      if (timer && at !== undefined && at <= due) return;
      if (timer) clearTimeout(timer);
      at = due;
      timer = setTimeout(() => {
        timer = undefined;
        at = undefined;
        run();
      }, delay);
      // The deliverer must never keep a script or a test process alive on its own.
      timer.unref?.();
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      at = undefined;
    },
  };
}
