/**
 * A one-shot wake-up timer where the EARLIEST request wins. The notifier asks to be woken "now" when a
 * delivery is queued and "in 30 s" when a pass finds nothing due; if the second request replaced the
 * first, a notify queued while a pass was finishing would sleep for 30 s. Here a later wake-up never
 * pushes back an earlier one.
 */
export interface Wake {
  /** Run the callback in `ms` (clamped to [0, maxMs]) unless a wake-up is already due sooner. */
  in(ms: number): void;
  /** When the pending wake-up is due (epoch ms), or undefined. */
  dueAt(): number | undefined;
  /** Drops the pending wake-up (shutdown). */
  cancel(): void;
}

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
      timer.unref?.();
    },
    dueAt: () => at,
    cancel() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      at = undefined;
    },
  };
}
