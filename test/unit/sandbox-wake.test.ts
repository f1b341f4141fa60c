import { describe, expect, it } from 'vitest';
import { createWake } from '@/lib/sandbox/wake';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sandbox notifier wake-up timer', () => {
  it('a later, longer wake-up never pushes back an earlier one (a queued notify must not sleep 30 s)', async () => {
    let runs = 0;
    const wake = createWake(() => runs++, 30_000);
    wake.in(0); // a delivery was queued: wake now
    wake.in(30_000); // a pass that saw nothing due asks for the idle wake-up
    await sleep(50);
    expect(runs).toBe(1);
    expect(wake.dueAt()).toBeUndefined();
  });

  it('an earlier request replaces a later one, and fires once', async () => {
    let runs = 0;
    const wake = createWake(() => runs++, 30_000);
    wake.in(30_000);
    const idleAt = wake.dueAt()!;
    wake.in(5);
    expect(wake.dueAt()!).toBeLessThan(idleAt);
    await sleep(60);
    expect(runs).toBe(1);
  });

  it('clamps to the maximum and treats a bad delay as now', async () => {
    let runs = 0;
    const wake = createWake(() => runs++, 20);
    wake.in(10 * 60_000);
    expect(wake.dueAt()! - Date.now()).toBeLessThanOrEqual(20);
    await sleep(60);
    expect(runs).toBe(1);
    wake.in(Number.NaN);
    await sleep(30);
    expect(runs).toBe(2);
  });
});
