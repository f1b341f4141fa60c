import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attemptRow, type CheckoutUnderTest, checkoutAgainst, eventsOf, orderRow, seedPaidOrder } from '../../helpers/checkout-unit';
import { addAttempt } from '../../helpers/orders';
import { type ScriptedWechat, startScriptedWechat, wxOk } from '../../helpers/scripted-wechat';

/**
 * applyPayment (lib/checkout/payments) for a second attempt of an order already paid, in sandbox mode
 * (refunds available): the duplicate payment is flagged and its refund reserved, with no "blocked" note.
 * The live-mode twin, where refunds are blocked, is payments-duplicate-live.test.ts.
 */
describe('applyPayment: a duplicate payment (sandbox mode, refunds available)', () => {
  let wx: ScriptedWechat;
  let app: CheckoutUnderTest;
  let payments: typeof import('@/lib/checkout/payments');
  let refunds: typeof import('@/lib/checkout/refunds');

  beforeAll(async () => {
    wx = await startScriptedWechat();
    app = await checkoutAgainst(wx);
    payments = await import('@/lib/checkout/payments');
    refunds = await import('@/lib/checkout/refunds');
  });
  afterAll(async () => {
    await app?.close();
    await wx?.close();
  });
  beforeEach(() => wx.reset());

  it('flags the order, reserves a processing refund of the second attempt, and says it started', async () => {
    expect(refunds.refundsUnavailable()).toBeNull();
    const paid = await seedPaidOrder(app.db, { amountFen: 4500 });
    const second = await addAttempt(app.db, paid.orderId, { tradeType: 'JSAPI' });

    const r = await payments.applyPayment({ source: 'notify', outTradeNo: second.outTradeNo, transactionId: '4200000000000000000000000999', totalFee: 4500, raw: '<xml/>' });
    expect(r.outcome).toBe('duplicate_payment');
    if (r.outcome !== 'duplicate_payment') return;
    expect(r.refund).toMatchObject({ out_trade_no: second.outTradeNo, amount_fen: 4500, origin: 'duplicate', status: 'processing', reason: payments.DUPLICATE_REFUND_REASON });

    // The order is still paid once, by its first transaction, and flagged; nothing counts as refunded.
    const order = await orderRow(app.db, paid.orderId);
    expect(order).toMatchObject({ status: 'paid', transaction_id: paid.transactionId, duplicate_paid: 1, refunded_fen: 0 });
    expect(await attemptRow(app.db, second.outTradeNo)).toMatchObject({ status: 'paid', transaction_id: '4200000000000000000000000999' });
    const rows = await app.db.selectFrom('refunds').selectAll().where('order_id', '=', paid.orderId).execute();
    expect(rows).toEqual([r.refund]);

    const events = await eventsOf(app.db, paid.orderId);
    expect(events.map((e) => [e.source, e.outcome])).toEqual([['refund', 'applied'], ['notify', 'applied']]);
    expect(events[0].detail).toBe(`refund ${r.refund!.out_refund_no} of 4500 fen requested (duplicate): ${payments.DUPLICATE_REFUND_REASON}`);
    expect(events[1].detail).toMatch(/^DUPLICATE_PAYMENT: attempt \S+ \(transaction 4200000000000000000000000999\) was paid although order \S+ was already paid by transaction \d+;/);
    expect(events[1].detail).toContain(`refund ${r.refund!.out_refund_no} of 4500 fen started automatically`);
    expect(events[1].detail).not.toContain('sent once this is fixed');
    expect(events[1].detail).toBe(r.detail);

    // applyPayment itself makes no call to WeChat: the caller submits after commit.
    expect(wx.requests).toEqual([]);
    wx.answer('/secapi/pay/refund', wxOk({ refund_id: '50300000000123' }));
    const sent = await refunds.submitRefund(r.refund!);
    expect(sent).toMatchObject({ ok: true, refund: { status: 'processing', refund_id: '50300000000123' } });
    expect(wx.to('/secapi/pay/refund')[0].fields).toMatchObject({ out_refund_no: r.refund!.out_refund_no, out_trade_no: second.outTradeNo, refund_fee: '4500', total_fee: '4500' });
  });

  it('the same duplicate payment notified again: a harmless repeat, no second refund', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 100 });
    const second = await addAttempt(app.db, paid.orderId);
    const input = { source: 'notify' as const, outTradeNo: second.outTradeNo, transactionId: '4200000000000000000000000888', totalFee: 100 };
    expect((await payments.applyPayment(input)).outcome).toBe('duplicate_payment');
    expect((await payments.applyPayment({ ...input, source: 'query' })).outcome).toBe('duplicate');
    expect(await app.db.selectFrom('refunds').select('out_trade_no').where('order_id', '=', paid.orderId).execute()).toEqual([{ out_trade_no: second.outTradeNo }]);
    expect((await eventsOf(app.db, paid.orderId)).map((e) => e.outcome)).toEqual(['applied', 'applied', 'duplicate']);
  });

  it('a duplicate-payment refund that succeeds never marks the order refunded', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 100 });
    const second = await addAttempt(app.db, paid.orderId);
    const r = await payments.applyPayment({ source: 'notify', outTradeNo: second.outTradeNo, transactionId: '4200000000000000000000000777', totalFee: 100 });
    const no = r.outcome === 'duplicate_payment' ? r.refund!.out_refund_no : '';
    expect((await refunds.applyRefundResult({ outRefundNo: no, status: 'SUCCESS', refundFee: 100, source: 'refund' })).outcome).toBe('applied');
    const order = await orderRow(app.db, paid.orderId);
    expect(order).toMatchObject({ status: 'paid', refunded_fen: 0, duplicate_paid: 1 });
    // The merchant can still refund the order's own payment in full.
    wx.answer('/secapi/pay/refund', wxOk({ refund_id: '50300000000456' }));
    const own = await refunds.requestRefund({ orderId: paid.orderId, amountFen: 100, reason: 'merchant', origin: 'merchant' });
    expect(own).toMatchObject({ ok: true, refund: { out_trade_no: paid.outTradeNo, origin: 'merchant', status: 'processing' } });
    expect(wx.to('/secapi/pay/refund').at(-1)?.fields).toMatchObject({ out_trade_no: paid.outTradeNo, refund_fee: '100' });
  });
});
