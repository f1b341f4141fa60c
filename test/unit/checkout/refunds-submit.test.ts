import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CheckoutUnderTest, checkoutAgainst, eventsOf, orderRow, type PaidOrder, refundRow, seedPaidOrder, seedProcessingRefund } from '../../helpers/checkout-unit';
import { type ScriptedWechat, startScriptedWechat, wxFail, wxHttp, wxOk } from '../../helpers/scripted-wechat';

/**
 * submitRefund (lib/checkout/refunds) against a scripted WeChat: what a refund call that fails leaves
 * in the database. Retryable failures keep the refund `processing` for the reconciler and log once per
 * distinct failure; a business refusal fails it and frees the amount.
 */
describe('submitRefund: failures', () => {
  let wx: ScriptedWechat;
  let app: CheckoutUnderTest;
  let refunds: typeof import('@/lib/checkout/refunds');
  let kernel: typeof import('@/lib/checkout/kernel');

  beforeAll(async () => {
    wx = await startScriptedWechat();
    app = await checkoutAgainst(wx);
    refunds = await import('@/lib/checkout/refunds');
    kernel = await import('@/lib/checkout/kernel');
  });
  afterAll(async () => {
    await app?.close();
    await wx?.close();
  });
  beforeEach(() => wx.reset());

  const paidWithRefund = async (amountFen = 100): Promise<PaidOrder & { outRefundNo: string }> => {
    const paid = await seedPaidOrder(app.db, { amountFen });
    return { ...paid, outRefundNo: await seedProcessingRefund(app.db, paid) };
  };
  /** submitRefund as the reconciler calls it: with the row as it stands now. */
  const submit = async (outRefundNo: string) => refunds.submitRefund(await refundRow(app.db, outRefundNo));
  const errorEvents = async (orderId: string) => (await eventsOf(app.db, orderId)).filter((e) => e.source === 'refund' && e.outcome === 'error');
  const reserve = (orderId: string, amountFen: number) =>
    kernel.writeTransaction((trx) => refunds.reserveRefund(trx, { orderId, amountFen, reason: 'again', origin: 'merchant' }));

  it('sends the refund WeChat asked for: same out_refund_no, the attempt total, the refund amount', async () => {
    const p = await paidWithRefund(100);
    wx.answer('/secapi/pay/refund', wxOk({ out_refund_no: p.outRefundNo, refund_id: '50300999' }));
    const r = await submit(p.outRefundNo);
    expect(r).toMatchObject({ ok: true, refund: { status: 'processing', refund_id: '50300999', detail: 'accepted by WeChat, waiting for the result' } });
    expect(wx.to('/secapi/pay/refund').map((q) => q.fields)).toEqual([
      expect.objectContaining({ out_refund_no: p.outRefundNo, out_trade_no: p.outTradeNo, total_fee: '100', refund_fee: '100' }),
    ]);
    expect(await errorEvents(p.orderId)).toEqual([]);
  });

  it.each([
    ['err_code SYSTEMERROR', () => wxFail('SYSTEMERROR'), 'SYSTEMERROR'],
    ['err_code BIZERR_NEED_RETRY', () => wxFail('BIZERR_NEED_RETRY'), 'BIZERR_NEED_RETRY'],
    ['err_code FREQUENCY_LIMITED', () => wxFail('FREQUENCY_LIMITED'), 'FREQUENCY_LIMITED'],
    ['HTTP 500', () => wxHttp(500), 'HTTP_ERROR'],
    ['a dropped connection', () => 'drop' as const, 'NETWORK'],
  ])('%s: stays processing with a "will retry" detail, one event per distinct failure', async (_what, reply, code) => {
    const p = await paidWithRefund(100);
    wx.answer('/secapi/pay/refund', reply());

    const first = await submit(p.outRefundNo);
    expect(first.ok).toBe(true);
    const after1 = await refundRow(app.db, p.outRefundNo);
    expect(after1.status).toBe('processing');
    expect(after1.detail).toMatch(new RegExp(`^not confirmed yet \\(${code}: .*\\); will retry$`));
    const ev1 = await errorEvents(p.orderId);
    expect(ev1).toHaveLength(1);
    expect(ev1[0].detail).toContain(`refund ${p.outRefundNo} not confirmed (${code}:`);
    expect(ev1[0].detail).toContain('the reconciler retries it');

    // The reconciler's next sweep: the same failure again adds no event.
    await submit(p.outRefundNo);
    expect(await errorEvents(p.orderId)).toHaveLength(1);
    expect((await refundRow(app.db, p.outRefundNo)).status).toBe('processing');
    expect(wx.to('/secapi/pay/refund').every((q) => q.fields.out_refund_no === p.outRefundNo)).toBe(true);

    // Nothing was freed: the amount is still taken.
    expect(await reserve(p.orderId, 100)).toMatchObject({ ok: false, code: 'AMOUNT_EXCEEDS' });
    const order = await orderRow(app.db, p.orderId);
    expect([order.status, order.refunded_fen]).toEqual(['paid', 0]);
  });

  it('a different failure on the next try is recorded again (once per DISTINCT failure)', async () => {
    const p = await paidWithRefund(100);
    wx.answer('/secapi/pay/refund', wxFail('SYSTEMERROR'));
    await submit(p.outRefundNo);
    await submit(p.outRefundNo);
    wx.answer('/secapi/pay/refund', wxHttp(503));
    await submit(p.outRefundNo);
    await submit(p.outRefundNo);
    const details = (await errorEvents(p.orderId)).map((e) => e.detail);
    expect(details).toHaveLength(2);
    expect(details[0]).toContain('(SYSTEMERROR:');
    expect(details[1]).toContain('(HTTP_ERROR:');
    expect((await refundRow(app.db, p.outRefundNo)).detail).toMatch(/HTTP 503/);
  });

  // NOTENOUGH is not terminal: the same refund goes through once the balance is topped up (wx-refund-errors.test.ts).
  it.each(['USER_ACCOUNT_ABNORMAL', 'INVALID_REQUEST'])('terminal %s: failed, amount freed, ok:false with the code', async (errCode) => {
    const p = await paidWithRefund(100);
    // Before: the whole payment is reserved by the processing refund.
    expect(await reserve(p.orderId, 1)).toMatchObject({ ok: false, code: 'AMOUNT_EXCEEDS' });
    wx.answer('/secapi/pay/refund', wxFail(errCode, `${errCode} 描述`));

    const r = await submit(p.outRefundNo);
    // USER_ACCOUNT_ABNORMAL also tells the merchant what to do.
    const said = errCode === 'USER_ACCOUNT_ABNORMAL' ? `${errCode} 描述 (the buyer's WeChat Pay account is abnormal or closed, so WeChat cannot refund the original way: refund the buyer another way (bank transfer, cash); nothing was refunded)` : `${errCode} 描述`;
    expect(r).toMatchObject({ ok: false, code: errCode, message: said, refund: { status: 'failed' } });
    expect(wx.to('/secapi/pay/refund')).toHaveLength(1); // a business refusal is not retried
    const row = await refundRow(app.db, p.outRefundNo);
    expect([row.status, row.detail]).toEqual(['failed', `${errCode}: ${said}`]);
    const ev = await errorEvents(p.orderId);
    expect(ev.map((e) => e.detail)).toEqual([`refund ${p.outRefundNo} refused by WeChat: ${errCode} ${said}`]);
    const order = await orderRow(app.db, p.orderId);
    expect([order.status, order.refunded_fen]).toEqual(['paid', 0]);

    // The failed refund no longer counts: the full amount can be reserved again.
    const again = await reserve(p.orderId, 100);
    expect(again).toMatchObject({ ok: true, refund: { status: 'processing', amount_fen: 100, out_trade_no: p.outTradeNo } });
    expect(again.ok && again.refund.out_refund_no).not.toBe(p.outRefundNo);

    // Sent again anyway (a caller holding an old copy): the failed row is not resurrected, nor logged twice.
    await submit(p.outRefundNo);
    expect((await refundRow(app.db, p.outRefundNo)).status).toBe('failed');
    expect(await errorEvents(p.orderId)).toHaveLength(1);
  });
});
