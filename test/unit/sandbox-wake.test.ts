import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWake } from '@/lib/sandbox/wake';

// createWake is setTimeout + Date.now: fake timers (Date included) make every step exact, no sleeping.
describe('sandbox notifier wake-up timer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a later, longer wake-up never pushes back an earlier one (a queued notify must not sleep 30 s)', () => {
    let runs = 0;
    const wake = createWake(() => runs++, 30_000);
    wake.in(0); // a delivery was queued: wake now
    wake.in(30_000); // a pass that saw nothing due asks for the idle wake-up
    expect(wake.dueAt()).toBe(Date.now());
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(0);
    expect(runs).toBe(1);
    expect(wake.dueAt()).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(runs).toBe(1);
  });

  it('an earlier request replaces a later one, and fires once', () => {
    let runs = 0;
    const wake = createWake(() => runs++, 30_000);
    wake.in(30_000);
    const idleAt = wake.dueAt()!;
    expect(idleAt).toBe(Date.now() + 30_000);
    wake.in(5);
    expect(wake.dueAt()).toBe(Date.now() + 5);
    expect(wake.dueAt()!).toBeLessThan(idleAt);
    expect(vi.getTimerCount()).toBe(1); // the 30 s timer was cleared, not left to fire as well
    vi.advanceTimersByTime(4);
    expect(runs).toBe(0);
    vi.advanceTimersByTime(1);
    expect(runs).toBe(1);
    expect(wake.dueAt()).toBeUndefined();
    vi.advanceTimersByTime(60_000); // past the replaced 30 s wake-up
    expect(runs).toBe(1);
  });

  it('clamps to the maximum and treats a bad delay as now', () => {
    let runs = 0;
    const wake = createWake(() => runs++, 20);
    wake.in(10 * 60_000);
    expect(wake.dueAt()! - Date.now()).toBe(20);
    vi.advanceTimersByTime(19);
    expect(runs).toBe(0);
    vi.advanceTimersByTime(1);
    expect(runs).toBe(1);
    wake.in(Number.NaN);
    expect(wake.dueAt()).toBe(Date.now());
    vi.advanceTimersByTime(0);
    expect(runs).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });
});
