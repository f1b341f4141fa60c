import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CheckoutUnderTest, checkoutAgainst, eventsOf, orderRow, refundRow, seedPaidOrder, seedProcessingRefund } from '../../helpers/checkout-unit';
import { type ScriptedWechat, startScriptedWechat, wxFail, wxOk, wxRefundQuery } from '../../helpers/scripted-wechat';

/**
 * followRefund (lib/checkout/refunds): refundquery for a processing refund, then WeChat's verdict
 * applied once, or the refund resubmitted when WeChat never received it.
 */
describe('followRefund', () => {
  let wx: ScriptedWechat;
  let app: CheckoutUnderTest;
  let refunds: typeof import('@/lib/checkout/refunds');

  beforeAll(async () => {
    wx = await startScriptedWechat();
    app = await checkoutAgainst(wx);
    refunds = await import('@/lib/checkout/refunds');
  });
  afterAll(async () => {
    await app?.close();
    await wx?.close();
  });
  beforeEach(() => wx.reset());

  const follow = async (outRefundNo: string) => refunds.followRefund(await refundRow(app.db, outRefundNo));
  const applied = async (orderId: string) => (await eventsOf(app.db, orderId)).filter((e) => e.outcome === 'applied');

  it('REFUNDNOTEXIST: resubmits the refund with the SAME out_refund_no', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 500 });
    const no = await seedProcessingRefund(app.db, paid, { amountFen: 200 });
    wx.answer('/pay/refundquery', wxFail('REFUNDNOTEXIST', '退款订单查询失败'));
    wx.answer('/secapi/pay/refund', wxOk({ out_refund_no: no, refund_id: '50300000000001' }));

    expect(await follow(no)).toBe(`resubmitted ${no}`);
    expect(wx.requests.map((r) => r.path)).toEqual(['/pay/refundquery', '/secapi/pay/refund']);
    expect(wx.to('/pay/refundquery')[0].fields.out_refund_no).toBe(no);
    expect(wx.to('/secapi/pay/refund')[0].fields).toMatchObject({ out_refund_no: no, out_trade_no: paid.outTradeNo, total_fee: '500', refund_fee: '200' });
    const row = await refundRow(app.db, no);
    expect(row).toMatchObject({ status: 'processing', refund_id: '50300000000001', detail: 'accepted by WeChat, waiting for the result' });
    const order = await orderRow(app.db, paid.orderId);
    expect([order.status, order.refunded_fen]).toEqual(['paid', 0]);
    // No new refund row: the resubmission is the same refund.
    expect(await app.db.selectFrom('refunds').select('out_refund_no').where('order_id', '=', paid.orderId).execute()).toEqual([{ out_refund_no: no }]);
  });

  it('a refundquery that lists only other refunds of the trade also counts as "never received": resubmitted', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 100 });
    const no = await seedProcessingRefund(app.db, paid);
    wx.answer('/pay/refundquery', wxRefundQuery('R_SOMEONE_ELSE_0001', 'SUCCESS', 100));
    wx.answer('/secapi/pay/refund', wxOk({ out_refund_no: no }));
    expect(await follow(no)).toBe(`resubmitted ${no}`);
    expect(wx.to('/secapi/pay/refund').map((r) => r.fields.out_refund_no)).toEqual([no]);
  });

  it('REFUNDNOTEXIST then a terminal refusal of the resubmission: the refund fails, nothing refunded', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 100 });
    const no = await seedProcessingRefund(app.db, paid);
    wx.answer('/pay/refundquery', wxFail('REFUNDNOTEXIST'));
    wx.answer('/secapi/pay/refund', wxFail('USER_ACCOUNT_ABNORMAL', '用户账户异常或已注销'));
    expect(await follow(no)).toBe(`resubmit of ${no} refused: USER_ACCOUNT_ABNORMAL`);
    expect((await refundRow(app.db, no)).status).toBe('failed');
    expect((await orderRow(app.db, paid.orderId)).refunded_fen).toBe(0);
  });

  it('SUCCESS for part of the payment: applied once, partially_refunded; the full rest then makes it refunded', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 1000 });
    const first = await seedProcessingRefund(app.db, paid, { amountFen: 300 });
    const stale = await refundRow(app.db, first);
    wx.answer('/pay/refundquery', wxRefundQuery(first, 'SUCCESS', 300, '50300000000777'));

    expect(await follow(first)).toBe(`${first}: SUCCESS (applied)`);
    expect(await refundRow(app.db, first)).toMatchObject({ status: 'succeeded', refund_id: '50300000000777', detail: 'refunded' });
    let order = await orderRow(app.db, paid.orderId);
    expect([order.status, order.refunded_fen]).toEqual(['partially_refunded', 300]);

    // The same verdict again (a second sweep holding the old row, or the notify racing it): nothing added.
    expect(await refunds.followRefund(stale)).toBe(`${first}: SUCCESS (duplicate)`);
    order = await orderRow(app.db, paid.orderId);
    expect([order.status, order.refunded_fen]).toEqual(['partially_refunded', 300]);
    const events = await eventsOf(app.db, paid.orderId);
    expect(events.map((e) => [e.source, e.outcome])).toEqual([['refund', 'applied'], ['refund', 'duplicate']]);
    expect(events[0].detail).toBe(`refund ${first} of 300 fen (merchant) processing -> succeeded: refunded`);

    const rest = await seedProcessingRefund(app.db, paid, { amountFen: 700 });
    wx.answer('/pay/refundquery', wxRefundQuery(rest, 'SUCCESS', 700));
    expect(await follow(rest)).toBe(`${rest}: SUCCESS (applied)`);
    order = await orderRow(app.db, paid.orderId);
    expect([order.status, order.refunded_fen]).toEqual(['refunded', 1000]);
  });

  it('SUCCESS for the whole payment: refunded', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 6800 });
    const no = await seedProcessingRefund(app.db, paid);
    wx.answer('/pay/refundquery', wxRefundQuery(no, 'SUCCESS', 6800));
    await follow(no);
    const order = await orderRow(app.db, paid.orderId);
    expect([order.status, order.refunded_fen]).toEqual(['refunded', 6800]);
    expect((await applied(paid.orderId)).map((e) => e.detail)).toEqual([`refund ${no} of 6800 fen (merchant) processing -> succeeded: refunded`]);
  });

  it('SUCCESS with a refund_fee other than what was asked: rejected, nothing applied', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 100 });
    const no = await seedProcessingRefund(app.db, paid, { amountFen: 40 });
    wx.answer('/pay/refundquery', wxRefundQuery(no, 'SUCCESS', 41));
    expect(await follow(no)).toBe(`${no}: SUCCESS (rejected AMOUNT_MISMATCH)`);
    expect((await refundRow(app.db, no)).status).toBe('processing');
    expect((await orderRow(app.db, paid.orderId)).refunded_fen).toBe(0);
    expect((await eventsOf(app.db, paid.orderId)).map((e) => e.outcome)).toEqual(['rejected']);
  });

  it('CHANGE: the refund is abnormal (taken from the merchant, not delivered), adds nothing to refunded_fen, is not resubmitted', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 100 });
    const no = await seedProcessingRefund(app.db, paid);
    wx.answer('/pay/refundquery', wxRefundQuery(no, 'CHANGE', 100));
    expect(await follow(no)).toBe(`${no}: CHANGE (applied)`);
    const row = await refundRow(app.db, no);
    expect(row.status).toBe('abnormal');
    expect(row.detail).toMatch(/^CHANGE \(退款异常\): WeChat took this refund from the merchant account/);
    const order = await orderRow(app.db, paid.orderId);
    expect([order.status, order.refunded_fen]).toEqual(['paid', 0]);
    const ev = await applied(paid.orderId);
    expect(ev).toHaveLength(1);
    expect(ev[0].detail).toContain(`refund ${no} of 100 fen (merchant) processing -> abnormal: CHANGE`);
    // No resubmission: the merchant settles it in the merchant portal.
    expect(wx.to('/secapi/pay/refund')).toEqual([]);
    expect(await follow(no)).toBe(`${no}: CHANGE (duplicate)`);
    expect(wx.to('/secapi/pay/refund')).toEqual([]);
  });

  it('PROCESSING: stays processing, no event, the refund_id remembered', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 100 });
    const no = await seedProcessingRefund(app.db, paid);
    wx.answer('/pay/refundquery', wxRefundQuery(no, 'PROCESSING', 100, '50300000000042'));
    expect(await follow(no)).toBe(`${no}: PROCESSING (pending)`);
    expect(await refundRow(app.db, no)).toMatchObject({ status: 'processing', refund_id: '50300000000042' });
    const order = await orderRow(app.db, paid.orderId);
    expect([order.status, order.refunded_fen]).toEqual(['paid', 0]);
    expect(await eventsOf(app.db, paid.orderId)).toEqual([]);
    expect(wx.to('/secapi/pay/refund')).toEqual([]);
  });
});
