import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attemptRow, type CheckoutUnderTest, checkoutAgainst, eventsOf, orderRow } from '../../helpers/checkout-unit';
import { addAttempt, insertOrder } from '../../helpers/orders';
import { type ScriptedWechat, startScriptedWechat, wxFail, wxOk } from '../../helpers/scripted-wechat';

/**
 * confirmAttempt (lib/checkout/payments): orderquery for one open attempt, and what each answer does to
 * the attempt, the order and the timeline.
 */
describe('confirmAttempt', () => {
  let wx: ScriptedWechat;
  let app: CheckoutUnderTest;
  let payments: typeof import('@/lib/checkout/payments');

  beforeAll(async () => {
    wx = await startScriptedWechat();
    app = await checkoutAgainst(wx);
    payments = await import('@/lib/checkout/payments');
  });
  afterAll(async () => {
    await app?.close();
    await wx?.close();
  });
  beforeEach(() => wx.reset());

  const paidAnswer = (outTradeNo: string, totalFee: number, transactionId = '4200000000000000000000000001') =>
    wxOk({ trade_state: 'SUCCESS', out_trade_no: outTradeNo, transaction_id: transactionId, total_fee: String(totalFee), openid: 'oPayer', time_end: '20260301120000', trade_type: 'NATIVE' });

  it('ORDERNOTEXIST: WeChat never saw the trade, the open attempt is closed', async () => {
    const a = await insertOrder(app.db, { amountFen: 100 });
    wx.answer('/pay/orderquery', wxFail('ORDERNOTEXIST', '此交易订单号不存在'));
    expect(await payments.confirmAttempt(a.outTradeNo)).toEqual({ state: 'ORDERNOTEXIST' });
    expect(wx.to('/pay/orderquery')).toHaveLength(1); // a business answer: not retried
    expect(wx.to('/pay/orderquery')[0].fields.out_trade_no).toBe(a.outTradeNo);
    expect((await attemptRow(app.db, a.outTradeNo)).status).toBe('closed');
    expect((await orderRow(app.db, a.orderId)).status).toBe('pending'); // the reconciler closes the order, not this
    expect(await eventsOf(app.db, a.orderId)).toEqual([
      { source: 'query', outcome: 'applied', out_trade_no: a.outTradeNo, detail: 'ORDERNOTEXIST: WeChat has no such trade; attempt closed' },
    ]);
  });

  it.each([
    ['CLOSED', 'closed', 'CLOSED: 订单已关闭'],
    ['REVOKED', 'closed', 'REVOKED: 订单已撤销'],
    ['PAYERROR', 'failed', 'PAYERROR: 支付失败(其他原因，如银行返回失败)'],
  ] as const)('trade_state %s: the attempt becomes %s', async (state, status, detail) => {
    const a = await insertOrder(app.db, { amountFen: 100 });
    wx.answer('/pay/orderquery', wxOk({ trade_state: state, trade_state_desc: detail.slice(state.length + 2), out_trade_no: a.outTradeNo }));
    expect(await payments.confirmAttempt(a.outTradeNo)).toEqual({ state });
    expect((await attemptRow(app.db, a.outTradeNo)).status).toBe(status);
    const order = await orderRow(app.db, a.orderId);
    expect([order.status, order.transaction_id]).toEqual(['pending', null]);
    expect(await eventsOf(app.db, a.orderId)).toEqual([{ source: 'query', outcome: 'applied', out_trade_no: a.outTradeNo, detail }]);

    // Asked again: the attempt is no longer open, so nothing changes and nothing more is logged.
    await payments.confirmAttempt(a.outTradeNo);
    expect(await eventsOf(app.db, a.orderId)).toHaveLength(1);
  });

  it('NOTPAY / USERPAYING: nothing changes, nothing logged', async () => {
    const a = await insertOrder(app.db, { amountFen: 100 });
    wx.answer('/pay/orderquery', wxOk({ trade_state: 'NOTPAY', out_trade_no: a.outTradeNo }), wxOk({ trade_state: 'USERPAYING', out_trade_no: a.outTradeNo }));
    expect(await payments.confirmAttempt(a.outTradeNo)).toEqual({ state: 'NOTPAY' });
    expect(await payments.confirmAttempt(a.outTradeNo)).toEqual({ state: 'USERPAYING' });
    expect((await attemptRow(app.db, a.outTradeNo)).status).toBe('open');
    expect((await orderRow(app.db, a.orderId)).status).toBe('pending');
    expect(await eventsOf(app.db, a.orderId)).toEqual([]);
  });

  it('SUCCESS: the payment is applied (order paid) once; asking again is a duplicate', async () => {
    const a = await insertOrder(app.db, { amountFen: 6800, sku: 'green-tea' });
    wx.answer('/pay/orderquery', paidAnswer(a.outTradeNo, 6800));
    expect(await payments.confirmAttempt(a.outTradeNo)).toEqual({ state: 'SUCCESS', outcome: 'applied' });
    const attempt = await attemptRow(app.db, a.outTradeNo);
    expect([attempt.status, attempt.transaction_id]).toEqual(['paid', '4200000000000000000000000001']);
    const order = await orderRow(app.db, a.orderId);
    expect(order).toMatchObject({ status: 'paid', transaction_id: '4200000000000000000000000001', buyer_openid: 'oPayer', paid_at: '2026-03-01T04:00:00.000Z' });

    expect(await payments.confirmAttempt(a.outTradeNo)).toEqual({ state: 'SUCCESS', outcome: 'duplicate' });
    const events = await eventsOf(app.db, a.orderId);
    expect(events.map((e) => [e.source, e.outcome])).toEqual([['query', 'applied'], ['query', 'duplicate']]);
    expect(events[0].detail).toBe(`paid: attempt ${a.outTradeNo}, transaction 4200000000000000000000000001, 6800 fen (via query)`);
  });

  it('SUCCESS with a total_fee other than the attempt amount: rejected, the order stays pending', async () => {
    const a = await insertOrder(app.db, { amountFen: 100 });
    wx.answer('/pay/orderquery', paidAnswer(a.outTradeNo, 1));
    expect(await payments.confirmAttempt(a.outTradeNo)).toEqual({ state: 'SUCCESS', outcome: 'rejected' });
    expect((await attemptRow(app.db, a.outTradeNo)).status).toBe('open');
    expect((await orderRow(app.db, a.orderId)).status).toBe('pending');
    expect((await eventsOf(app.db, a.orderId)).map((e) => [e.outcome, e.detail.split(':')[0]])).toEqual([['rejected', 'AMOUNT_MISMATCH']]);
  });

  it('SUCCESS on a second attempt of a paid order: duplicate payment, refund reserved and sent to WeChat', async () => {
    const first = await insertOrder(app.db, { amountFen: 100 });
    const second = await addAttempt(app.db, first.orderId, { tradeType: 'JSAPI' });
    wx.answer('/pay/orderquery', (req) => paidAnswer(req.fields.out_trade_no, 100, req.fields.out_trade_no === first.outTradeNo ? '4200000000000000000000000011' : '4200000000000000000000000022'));
    wx.answer('/secapi/pay/refund', wxOk({ refund_id: '50300000000099' }));
    expect(await payments.confirmAttempt(first.outTradeNo)).toMatchObject({ outcome: 'applied' });
    expect(await payments.confirmAttempt(second.outTradeNo)).toMatchObject({ outcome: 'duplicate_payment' });

    const order = await orderRow(app.db, first.orderId);
    expect(order).toMatchObject({ status: 'paid', transaction_id: '4200000000000000000000000011', duplicate_paid: 1, refunded_fen: 0 });
    const refunds = await app.db.selectFrom('refunds').selectAll().where('order_id', '=', first.orderId).execute();
    expect(refunds).toEqual([expect.objectContaining({ out_trade_no: second.outTradeNo, amount_fen: 100, origin: 'duplicate', status: 'processing', refund_id: '50300000000099' })]);
    expect(wx.to('/secapi/pay/refund').map((r) => r.fields)).toEqual([
      expect.objectContaining({ out_refund_no: refunds[0].out_refund_no, out_trade_no: second.outTradeNo, total_fee: '100', refund_fee: '100' }),
    ]);
  });

  it('an orderquery that fails (HTTP 500, retried by the client) throws and changes nothing', async () => {
    const a = await insertOrder(app.db, { amountFen: 100 });
    wx.answer('/pay/orderquery', { status: 500, body: 'busy' });
    await expect(payments.confirmAttempt(a.outTradeNo)).rejects.toMatchObject({ code: 'HTTP_ERROR', statusCode: 500 });
    expect(wx.to('/pay/orderquery')).toHaveLength(3);
    expect((await attemptRow(app.db, a.outTradeNo)).status).toBe('open');
    expect(await eventsOf(app.db, a.orderId)).toEqual([]);
  });
});
