import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptRow, type CheckoutUnderTest, checkoutAgainst, eventsOf, seedPaidOrder } from '../../helpers/checkout-unit';
import { addAttempt, insertOrder } from '../../helpers/orders';

/**
 * A repeat of a payment this process has seen paid is settled from memory (lib/checkout/payments
 * paid-attempts.ts): `paid` is an attempt's last state, so the repeat does not read the attempt again.
 * Shown by changing the paid row behind the process's back, which nothing in the app ever does: the
 * repeat still reports the transaction it knew. What is not paid is always read afresh.
 */
describe('applyPayment: repeats of a paid attempt come from memory', () => {
  let app: CheckoutUnderTest;
  let payments: typeof import('@/lib/checkout/payments');
  let memory: typeof import('@/lib/checkout/payments/paid-attempts');

  beforeAll(async () => {
    app = await checkoutAgainst(null);
    payments = await import('@/lib/checkout/payments');
    memory = await import('@/lib/checkout/payments/paid-attempts');
  });
  afterAll(async () => {
    await app?.close();
  });

  const pay = (outTradeNo: string, transactionId: string, totalFee = 1) =>
    payments.applyPayment({ source: 'notify', outTradeNo, transactionId, totalFee, raw: '<xml/>' });

  it('a payment this process applied through the general path (a duplicate payment): its repeat does not read the attempt again', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 1 });
    const a = await addAttempt(app.db, paid.orderId);
    expect((await pay(a.outTradeNo, '4200000000000000000000000001')).outcome).toBe('duplicate_payment');
    await app.db.updateTable('payment_attempts').set({ transaction_id: 'changed-behind-the-app' }).where('out_trade_no', '=', a.outTradeNo).execute();

    const repeat = await pay(a.outTradeNo, '4200000000000000000000000001');
    expect(repeat).toMatchObject({ outcome: 'duplicate', orderId: paid.orderId });
    expect(repeat.detail).toContain('(transaction 4200000000000000000000000001)');
  });

  it('a payment applied by the short path is not remembered: its first repeat reads it once, the next ones do not', async () => {
    const a = await insertOrder(app.db);
    expect((await pay(a.outTradeNo, '4200000000000000000000000004')).outcome).toBe('applied');
    expect(memory.knownPaidAttempt(app.db, a.outTradeNo)).toBeUndefined();
    expect((await pay(a.outTradeNo, '4200000000000000000000000004')).outcome).toBe('duplicate');
    expect(memory.knownPaidAttempt(app.db, a.outTradeNo)).toMatchObject({ status: 'paid', transaction_id: '4200000000000000000000000004' });
    expect((await eventsOf(app.db, a.orderId)).map((e) => e.outcome).sort()).toEqual(['applied', 'duplicate']);
  });

  it('a paid attempt first met by a read is remembered from then on; the checks still run on it', async () => {
    const a = await insertOrder(app.db, { amountFen: 300 });
    await app.db.updateTable('payment_attempts').set({ status: 'paid', transaction_id: '4200000000000000000000000002' }).where('out_trade_no', '=', a.outTradeNo).execute();
    expect(memory.knownPaidAttempt(app.db, a.outTradeNo)).toBeUndefined();
    expect((await pay(a.outTradeNo, '4200000000000000000000000002', 300)).outcome).toBe('duplicate');
    expect(memory.knownPaidAttempt(app.db, a.outTradeNo)).toMatchObject({ status: 'paid', transaction_id: '4200000000000000000000000002', amount_fen: 300 });
    // A remembered attempt is still checked: a wrong amount is refused, not taken as a repeat.
    expect(await pay(a.outTradeNo, '4200000000000000000000000002', 301)).toMatchObject({ outcome: 'rejected', code: 'AMOUNT_MISMATCH' });
  });

  it('an attempt that is not paid is never remembered: it is read afresh every time', async () => {
    const a = await insertOrder(app.db, { amountFen: 500 });
    expect(await pay(a.outTradeNo, '4200000000000000000000000003', 499)).toMatchObject({ outcome: 'rejected', code: 'AMOUNT_MISMATCH' });
    expect(memory.knownPaidAttempt(app.db, a.outTradeNo)).toBeUndefined();
    memory.rememberPaidAttempt(app.db, { ...(await attemptRow(app.db, a.outTradeNo)) });
    expect(memory.knownPaidAttempt(app.db, a.outTradeNo)).toBeUndefined();
    expect((await pay(a.outTradeNo, '4200000000000000000000000003', 500)).outcome).toBe('applied');
  });

  it('keeps at most PAID_ATTEMPTS_KEPT, forgetting the least recently used first', async () => {
    const a = await attemptRow(app.db, (await insertOrder(app.db)).outTradeNo);
    const row = (n: number) => ({ ...a, out_trade_no: `mem${n}`, status: 'paid' as const, transaction_id: `t${n}` });
    const db = {} as typeof app.db; // a handle of its own: the memory is kept per database
    for (let n = 0; n < memory.PAID_ATTEMPTS_KEPT; n++) memory.rememberPaidAttempt(db, row(n));
    expect(memory.knownPaidAttempt(db, 'mem0')).toBeDefined(); // now the most recently used
    memory.rememberPaidAttempt(db, row(memory.PAID_ATTEMPTS_KEPT));
    expect(memory.knownPaidAttempt(db, 'mem1')).toBeUndefined();
    expect(memory.knownPaidAttempt(db, 'mem0')).toBeDefined();
    expect(memory.knownPaidAttempt(db, `mem${memory.PAID_ATTEMPTS_KEPT}`)).toBeDefined();
    expect(memory.knownPaidAttempt(app.db, 'mem0')).toBeUndefined();
  });
});
