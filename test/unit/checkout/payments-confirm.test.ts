import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attemptRow, type CheckoutUnderTest, checkoutAgainst, eventsOf, orderRow } from '../../helpers/checkout-unit';
import { captureLogs, type LogCapture } from '../../helpers/log-capture';
import { addAttempt, insertOrder } from '../../helpers/orders';
import { type ScriptedWechat, startScriptedWechat, type WxReply, wxFail, wxHttp, wxOk } from '../../helpers/scripted-wechat';

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

  it('an orderquery that fails (HTTP 500, retried by the client: confirmAttempt\'s default) throws and changes nothing', async () => {
    const a = await insertOrder(app.db, { amountFen: 100 });
    wx.answer('/pay/orderquery', { status: 500, body: 'busy' });
    await expect(payments.confirmAttempt(a.outTradeNo)).rejects.toMatchObject({ code: 'HTTP_ERROR', statusCode: 500 });
    expect(wx.to('/pay/orderquery')).toHaveLength(3);
    expect((await attemptRow(app.db, a.outTradeNo)).status).toBe('open');
    expect(await eventsOf(app.db, a.orderId)).toEqual([]);
  });

  /*
   * The claimed status poll (confirmPendingOrder): one orderquery per order per 3 s window, counted at
   * WeChat, so the claimed query is sent once, without the client's retries. WeChat's own guidance for
   * a merchant who has not had the result is to poll orderquery with a 3-5 s interval ("通常建议查询间隔
   * 为3-5秒", 合理的查单逻辑, https://pay.weixin.qq.com/doc/global/v2/zh/4013637903; in English "A query
   * interval of 3-5s is recommended", https://pay.weixin.qq.com/doc/global/v2/en/4013665306), and
   * orderquery answers FREQUENCY_LIMITED to merchants who ask too often
   * (https://developers.weixin.qq.com/community/pay/doc/000ce2ffab8bb0d2aafd77c675ec00).
   */
  describe('the claimed status poll (confirmPendingOrder)', () => {
    let logs: LogCapture;
    beforeEach(() => void (logs = captureLogs()));
    afterEach(() => logs.restore());
    /** The failure confirmPendingOrder reports (and swallows: the poll still answers the stored state). */
    const pollFailures = () => logs.lines.filter((l) => l.event === 'order_poll').map((l) => [l.level, (l.err as { code?: string }).code]);
    const transientFail = { body: '<xml><return_code>FAIL</return_code><return_msg>系统错误，请稍后再试</return_msg></xml>' };
    it.each<[string, WxReply, string]>([
      ['HTTP 500', wxHttp(500), 'HTTP_ERROR'],
      ['a dropped connection', 'drop', 'NETWORK'],
      ['SYSTEMERROR', wxFail('SYSTEMERROR', '系统错误'), 'SYSTEMERROR'],
      ['a transient return_code FAIL', transientFail, 'RETURN_FAIL'],
    ])('an orderquery failing with %s is sent once, not retried; the order stays pending and the next claim asks again', async (_what, failure, code) => {
      const a = await insertOrder(app.db, { amountFen: 100, codeUrl: 'weixin://wxpay/bizpayurl?pr=Unit' });
      wx.answer('/pay/orderquery', failure, wxOk({ trade_state: 'NOTPAY', out_trade_no: a.outTradeNo }));
      expect(await payments.confirmPendingOrder(a.orderId)).toBe('pending');
      expect(wx.to('/pay/orderquery').map((r) => r.fields.out_trade_no)).toEqual([a.outTradeNo]);
      const claimed = (await orderRow(app.db, a.orderId)).last_query_at;
      expect(claimed).not.toBeNull();
      expect((await attemptRow(app.db, a.outTradeNo)).status).toBe('open');
      expect(await eventsOf(app.db, a.orderId)).toEqual([]);
      expect(pollFailures()).toEqual([['warn', code]]);

      // Inside the window nobody asks again; once it is over (here: the claim moved a minute back, past
      // the 3 s), the next poll claims and asks, and this time WeChat answers.
      expect(await payments.confirmPendingOrder(a.orderId)).toBe('pending');
      expect(wx.to('/pay/orderquery')).toHaveLength(1);
      await app.db.updateTable('orders').set({ last_query_at: new Date(Date.parse(claimed!) - 60_000).toISOString() }).where('id', '=', a.orderId).execute();
      expect(await payments.confirmPendingOrder(a.orderId)).toBe('pending');
      expect(wx.to('/pay/orderquery')).toHaveLength(2);
    });

    it('an orderquery that gets no answer within the client\'s 5 s timeout is sent once, then given up', async () => {
      const a = await insertOrder(app.db, { amountFen: 100, codeUrl: 'weixin://wxpay/bizpayurl?pr=Unit' });
      wx.answer('/pay/orderquery', 'hang');
      expect(await payments.confirmPendingOrder(a.orderId)).toBe('pending');
      expect(wx.to('/pay/orderquery')).toHaveLength(1);
      expect(pollFailures()).toEqual([['warn', 'TIMEOUT']]);
      expect((await attemptRow(app.db, a.outTradeNo)).status).toBe('open');
    });

    it('a claim waits POLL_QUERY_GAP_MS + CLAIM_SEND_MS + CLAIM_SLACK_MS after the last (4 s), so the queries that leave within their windows are over 3 s apart at WeChat', async () => {
      const a = await insertOrder(app.db, { amountFen: 100, codeUrl: 'weixin://wxpay/bizpayurl?pr=Unit' });
      wx.answer('/pay/orderquery', wxOk({ trade_state: 'NOTPAY', out_trade_no: a.outTradeNo }));
      const claimedAgo = (ms: number) => app.db.updateTable('orders').set({ last_query_at: new Date(Date.now() - ms).toISOString() }).where('id', '=', a.orderId).execute();
      expect(payments.POLL_QUERY_GAP_MS + payments.CLAIM_SEND_MS + payments.CLAIM_SLACK_MS).toBe(4000);
      // Claimed 3.7 s ago: past the 3 s, but its query may have left as late as 3.2 s ago, and another
      // instance's clock may run a little ahead.
      await claimedAgo(3700);
      expect(await payments.confirmPendingOrder(a.orderId)).toBe('pending');
      expect(wx.to('/pay/orderquery')).toHaveLength(0);
      await claimedAgo(4100);
      expect(await payments.confirmPendingOrder(a.orderId)).toBe('pending');
      expect(wx.to('/pay/orderquery')).toHaveLength(1);
    });

    it('a claimed query past its send window is not sent at all (the claim\'s gap would not hold at WeChat); the attempt is untouched', async () => {
      const a = await insertOrder(app.db, { amountFen: 100, codeUrl: 'weixin://wxpay/bizpayurl?pr=Unit' });
      wx.answer('/pay/orderquery', paidAnswer(a.outTradeNo, 100));
      await expect(payments.confirmAttempt(a.outTradeNo, 'query', { once: true, sendBy: Date.now() - 1 })).rejects.toMatchObject({ code: 'QUERY_NOT_SENT', message: expect.stringMatching(/not sent: \d+ ms past its claim's send window/) });
      expect(wx.to('/pay/orderquery')).toHaveLength(0);
      expect((await attemptRow(app.db, a.outTradeNo)).status).toBe('open');
      // Within its window it goes out as any other.
      expect(await payments.confirmAttempt(a.outTradeNo, 'query', { once: true, sendBy: Date.now() + 60_000 })).toMatchObject({ state: 'SUCCESS', outcome: 'applied' });
      expect(wx.to('/pay/orderquery')).toHaveLength(1);
    });

    it('an answered claimed query applies as before: SUCCESS pays the order with one request', async () => {
      const a = await insertOrder(app.db, { amountFen: 100, codeUrl: 'weixin://wxpay/bizpayurl?pr=Unit' });
      wx.answer('/pay/orderquery', paidAnswer(a.outTradeNo, 100));
      expect(await payments.confirmPendingOrder(a.orderId)).toBe('paid');
      expect(wx.to('/pay/orderquery')).toHaveLength(1);
    });

    it('the merchant\'s sync and closeorder keep the client\'s retries (not claimed; a retry is the same request)', async () => {
      const a = await insertOrder(app.db, { amountFen: 100, codeUrl: 'weixin://wxpay/bizpayurl?pr=Unit' });
      wx.answer('/pay/orderquery', wxHttp(500), wxOk({ trade_state: 'NOTPAY', out_trade_no: a.outTradeNo }));
      expect(await payments.syncOrder(a.orderId, 'merchant')).toEqual({ ok: true, notes: [`${a.outTradeNo}: NOTPAY`] });
      expect(wx.to('/pay/orderquery')).toHaveLength(2);

      wx.answer('/pay/closeorder', wxHttp(500));
      await expect(payments.closeAttempt(a.outTradeNo)).rejects.toMatchObject({ code: 'HTTP_ERROR', statusCode: 500 });
      expect(wx.to('/pay/closeorder')).toHaveLength(3);
    });
  });
});
