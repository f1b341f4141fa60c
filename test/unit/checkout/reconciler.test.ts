import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attemptRow, type CheckoutUnderTest, checkoutAgainst, eventsOf, orderRow, refundRow, seedPaidOrder, seedProcessingRefund, until } from '../../helpers/checkout-unit';
import { captureLogs, type LogCapture } from '../../helpers/log-capture';
import { addAttempt, insertOrder, type TestAttempt } from '../../helpers/orders';
import { type ScriptedWechat, startScriptedWechat, wxFail, wxHttp, wxOk, wxRefundQuery } from '../../helpers/scripted-wechat';

/**
 * The reconciler (lib/checkout/reconciler) round by round: reconcileOnce is called directly (no timers)
 * with a batch of 2, against a scripted WeChat. Each test starts from an empty set of open attempts.
 * startReconciler is driven by its own timer only in the last test, to see that a failed round does
 * not stop the next one. Not covered here: the PostgreSQL advisory lock that exclusive() takes and
 * releases around a round (SQLite runs the round directly); that needs PostgreSQL, see
 * test/integration/reconciler.test.ts.
 */
describe('reconciler', () => {
  let wx: ScriptedWechat;
  let app: CheckoutUnderTest;
  let reconciler: typeof import('@/lib/checkout/reconciler');
  let logs: LogCapture;
  const S = { intervalMs: 0, graceMs: 60_000, batch: 2 };
  /** A payable attempt holds a code_url (or prepay_id); one without is an unanswered unifiedorder, never queried. */
  const QR = 'weixin://wxpay/bizpayurl?pr=UnitTest';

  beforeAll(async () => {
    wx = await startScriptedWechat();
    app = await checkoutAgainst(wx);
    reconciler = await import('@/lib/checkout/reconciler');
  });
  afterAll(async () => {
    await app?.close();
    await wx?.close();
  });
  beforeEach(async () => {
    wx.reset();
    // Leftovers of an earlier test must not take a batch slot.
    await app.db.updateTable('payment_attempts').set({ status: 'closed' }).where('status', '=', 'open').execute();
    await app.db.updateTable('orders').set({ status: 'closed' }).where('status', '=', 'pending').execute();
    await app.db.updateTable('refunds').set({ status: 'failed' }).where('status', '=', 'processing').execute();
    logs = captureLogs();
  });
  afterEach(() => logs.restore());

  /** `n` pending orders, each with one open attempt whose payment window ended, oldest first. */
  const expired = async (n: number): Promise<TestAttempt[]> => {
    const out: TestAttempt[] = [];
    for (let i = 0; i < n; i++) out.push(await insertOrder(app.db, { amountFen: 100, createdAgoMs: 30 * 60_000, expiresInMs: -(10 - i) * 60_000 }));
    return out;
  };
  const closed = () => wx.to('/pay/closeorder').map((r) => r.fields.out_trade_no);
  const statusOf = async (as: TestAttempt[]) => Promise.all(as.map(async (a) => (await attemptRow(app.db, a.outTradeNo)).status));

  it('batch 2, five expired attempts: each round closes the next two, oldest window first, and their orders', async () => {
    const as = await expired(5);
    wx.answer('/pay/closeorder', wxOk());

    const done1 = await reconciler.reconcileOnce(S);
    expect(closed()).toEqual([as[0].outTradeNo, as[1].outTradeNo]);
    expect(done1).toEqual([`expired ${as[0].outTradeNo}: closed`, `expired ${as[1].outTradeNo}: closed`]);
    expect(await statusOf(as)).toEqual(['closed', 'closed', 'open', 'open', 'open']);
    expect((await orderRow(app.db, as[0].orderId)).status).toBe('closed');
    expect((await eventsOf(app.db, as[0].orderId)).map((e) => [e.source, e.detail])).toEqual([
      ['close', 'closed at WeChat (closeorder)'],
      ['close', 'order closed: payment window expired'],
    ]);
    expect((await orderRow(app.db, as[2].orderId)).status).toBe('pending');

    await reconciler.reconcileOnce(S);
    expect(closed()).toHaveLength(4);
    expect(closed().slice(2)).toEqual([as[2].outTradeNo, as[3].outTradeNo]);
    expect(await statusOf(as)).toEqual(['closed', 'closed', 'closed', 'closed', 'open']);

    await reconciler.reconcileOnce(S);
    expect(closed().slice(4)).toEqual([as[4].outTradeNo]);
    expect(await statusOf(as)).toEqual(['closed', 'closed', 'closed', 'closed', 'closed']);
    expect(await reconciler.reconcileOnce(S)).toEqual([]);
    expect(closed()).toHaveLength(5);
  });

  it('closeorder answering ORDERPAID: the expired attempt was paid after all, orderquery applies it', async () => {
    const [a] = await expired(1);
    wx.answer('/pay/closeorder', wxFail('ORDERPAID', '订单已支付'));
    wx.answer('/pay/orderquery', wxOk({ trade_state: 'SUCCESS', out_trade_no: a.outTradeNo, transaction_id: '4200000000000000000000000301', total_fee: '100' }));
    expect(await reconciler.reconcileOnce(S)).toEqual([`expired ${a.outTradeNo}: paid`]);
    expect((await orderRow(app.db, a.orderId)).status).toBe('paid');
    expect((await attemptRow(app.db, a.outTradeNo)).status).toBe('paid');
  });

  it('a stray open attempt of a paid order is closed; when WeChat says ORDERPAID it is refunded as a duplicate payment', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 100 });
    const stray = await addAttempt(app.db, paid.orderId, { createdAgoMs: 2000 });
    const paidStray = await addAttempt(app.db, paid.orderId, { tradeType: 'JSAPI', createdAgoMs: 1000 });
    wx.answer('/pay/closeorder', (req) => (req.fields.out_trade_no === paidStray.outTradeNo ? wxFail('ORDERPAID') : wxOk()));
    wx.answer('/pay/orderquery', wxOk({ trade_state: 'SUCCESS', out_trade_no: paidStray.outTradeNo, transaction_id: '4200000000000000000000000305', total_fee: '100' }));
    wx.answer('/secapi/pay/refund', wxOk());

    expect(await reconciler.reconcileOnce(S)).toEqual([`stray ${stray.outTradeNo}: closed`, `stray ${paidStray.outTradeNo}: paid`]);
    expect(await statusOf([stray, paidStray])).toEqual(['closed', 'paid']);
    expect(await orderRow(app.db, paid.orderId)).toMatchObject({ status: 'paid', transaction_id: paid.transactionId, duplicate_paid: 1, refunded_fen: 0 });
    const refunds = await app.db.selectFrom('refunds').selectAll().where('order_id', '=', paid.orderId).execute();
    expect(refunds).toEqual([expect.objectContaining({ out_trade_no: paidStray.outTradeNo, origin: 'duplicate', status: 'processing', amount_fen: 100 })]);
    expect(wx.to('/secapi/pay/refund').map((r) => r.fields.out_refund_no)).toEqual([refunds[0].out_refund_no]);
  });

  it('quiet attempts older than the grace get one orderquery per grace period; fresh ones are left alone', async () => {
    const quiet = await insertOrder(app.db, { amountFen: 100, createdAgoMs: 2 * 60_000, codeUrl: QR });
    const fresh = await insertOrder(app.db, { amountFen: 100, codeUrl: QR });
    wx.answer('/pay/orderquery', wxOk({ trade_state: 'NOTPAY', out_trade_no: quiet.outTradeNo }));

    expect(await reconciler.reconcileOnce(S)).toEqual([`query ${quiet.outTradeNo}: {"state":"NOTPAY"}`]);
    expect(wx.to('/pay/orderquery').map((r) => r.fields.out_trade_no)).toEqual([quiet.outTradeNo]);
    expect((await orderRow(app.db, quiet.orderId)).last_query_at).not.toBeNull();
    expect((await orderRow(app.db, fresh.orderId)).last_query_at).toBeNull();

    // Asked within the grace period already: the next round does not ask again.
    await reconciler.reconcileOnce(S);
    expect(wx.to('/pay/orderquery')).toHaveLength(1);

    // With a zero grace both are due, but the quiet one was claimed just now: its claim is the status
    // polls' too, so it waits out their gap (POLL_QUERY_GAP_MS + CLAIM_SEND_MS + CLAIM_SLACK_MS) whatever the grace.
    wx.answer('/pay/orderquery', (req) => req.fields.out_trade_no === quiet.outTradeNo
      ? wxOk({ trade_state: 'SUCCESS', out_trade_no: quiet.outTradeNo, transaction_id: '4200000000000000000000000302', total_fee: '100' })
      : wxOk({ trade_state: 'NOTPAY', out_trade_no: req.fields.out_trade_no }));
    await until(async () => Date.now() > Date.parse((await orderRow(app.db, quiet.orderId)).last_query_at!), 'the clock to move past last_query_at');
    await reconciler.reconcileOnce({ ...S, graceMs: 0 });
    expect(wx.to('/pay/orderquery').slice(1).map((r) => r.fields.out_trade_no)).toEqual([fresh.outTradeNo]);
    // Claims older than the gap (moved back here): both are asked; the quiet one turns out paid (its notify was lost).
    const { CLAIM_SEND_MS, CLAIM_SLACK_MS, POLL_QUERY_GAP_MS } = await import('@/lib/checkout/payments');
    const back = new Date(Date.now() - POLL_QUERY_GAP_MS - CLAIM_SEND_MS - CLAIM_SLACK_MS - 1000).toISOString();
    await app.db.updateTable('orders').set({ last_query_at: back }).where('id', 'in', [quiet.orderId, fresh.orderId]).execute();
    await reconciler.reconcileOnce({ ...S, graceMs: 0 });
    expect(wx.to('/pay/orderquery').slice(2).map((r) => r.fields.out_trade_no).sort()).toEqual([quiet.outTradeNo, fresh.outTradeNo].sort());
    expect((await orderRow(app.db, quiet.orderId)).status).toBe('paid');
    expect((await eventsOf(app.db, quiet.orderId)).map((e) => [e.source, e.outcome])).toEqual([['query', 'applied']]);
    expect((await orderRow(app.db, fresh.orderId)).status).toBe('pending');
  });

  it('a quiet attempt\'s orderquery is sent once, like the poll\'s (same claim): a failure is logged and left for a later sweep', async () => {
    const quiet = await insertOrder(app.db, { amountFen: 100, createdAgoMs: 2 * 60_000, codeUrl: QR });
    wx.answer('/pay/orderquery', wxHttp(500), wxOk({ trade_state: 'NOTPAY', out_trade_no: quiet.outTradeNo }));
    expect(await reconciler.reconcileOnce(S)).toEqual([]);
    expect(wx.to('/pay/orderquery').map((r) => r.fields.out_trade_no)).toEqual([quiet.outTradeNo]);
    expect(logs.lines.filter((l) => l.event === 'reconciler_item').map((l) => [l.level, l.item])).toEqual([['warn', `query ${quiet.outTradeNo}`]]);
    expect((await attemptRow(app.db, quiet.outTradeNo)).status).toBe('open');
  });

  // Regression: the claim on orders.last_query_at was once taken per ATTEMPT, and the oldest quiet attempt
  // of an order always took it, so a newer open attempt of the same order (the JSAPI prompt after the QR)
  // was never orderqueried while the older one stayed open. The claim is per order now, and once claimed
  // every quiet attempt of it is asked about.
  it('every quiet attempt of an order is asked about, not only its oldest (a paid JSAPI attempt after an open QR)', async () => {
    const qr = await insertOrder(app.db, { amountFen: 100, createdAgoMs: 3 * 60_000, codeUrl: QR });
    const jsapi = await addAttempt(app.db, qr.orderId, { tradeType: 'JSAPI', createdAgoMs: 2 * 60_000, prepayId: 'wx_unit_prepay' });
    wx.answer('/pay/orderquery', (req) => req.fields.out_trade_no === jsapi.outTradeNo
      ? wxOk({ trade_state: 'SUCCESS', out_trade_no: jsapi.outTradeNo, transaction_id: '4200000000000000000000000304', total_fee: '100' })
      : wxOk({ trade_state: 'NOTPAY', out_trade_no: req.fields.out_trade_no }));
    const grace = 30;
    for (let round = 0; round < 3; round++) {
      await reconciler.reconcileOnce({ ...S, graceMs: grace });
      const last = Date.parse((await orderRow(app.db, qr.orderId)).last_query_at ?? '0');
      await until(() => Date.now() > last + grace, 'one grace period to pass');
    }
    expect(wx.to('/pay/orderquery').map((r) => r.fields.out_trade_no)).toContain(jsapi.outTradeNo);
    expect((await orderRow(app.db, qr.orderId)).status).toBe('paid');
  });

  it('each order\'s claim is stamped when it is made, not when the round began: a slow answer before it does not age it', async () => {
    const first = await insertOrder(app.db, { amountFen: 100, createdAgoMs: 3 * 60_000, codeUrl: QR });
    const second = await insertOrder(app.db, { amountFen: 100, createdAgoMs: 2 * 60_000, codeUrl: QR });
    // The first order's answer takes 400 ms; the second order is claimed after it.
    wx.answer('/pay/orderquery', (req) => ({ ...(wxOk({ trade_state: 'NOTPAY', out_trade_no: req.fields.out_trade_no }) as { body: string }), delayMs: req.fields.out_trade_no === first.outTradeNo ? 400 : 0 }));
    const began = Date.now();
    await reconciler.reconcileOnce(S);
    expect(wx.to('/pay/orderquery').map((r) => r.fields.out_trade_no)).toEqual([first.outTradeNo, second.outTradeNo]);
    const stamped = (o: TestAttempt) => orderRow(app.db, o.orderId).then((r) => Date.parse(r.last_query_at!));
    expect(await stamped(first)).toBeLessThan(began + 400);
    // Stamped with the round's start it would let a poll claim it, and send, 400 ms early.
    expect(await stamped(second)).toBeGreaterThanOrEqual(began + 400);
  });

  it('a pending order whose attempts all closed or failed is closed once its payment window is over, not before', async () => {
    const stale = await insertOrder(app.db, { amountFen: 100, createdAgoMs: 30 * 60_000 });
    const fresh = await insertOrder(app.db, { amountFen: 100, createdAgoMs: 60_000 });
    const live = await insertOrder(app.db, { amountFen: 100, createdAgoMs: 30 * 60_000, expiresInMs: 60 * 60_000 });
    for (const a of [stale, fresh]) await app.db.updateTable('payment_attempts').set({ status: a === stale ? 'closed' : 'failed' }).where('out_trade_no', '=', a.outTradeNo).execute();
    wx.answer('/pay/orderquery', (req) => wxOk({ trade_state: 'NOTPAY', out_trade_no: req.fields.out_trade_no }));

    const done = await reconciler.reconcileOnce(S);
    expect(done).toContain(`orphan ${stale.orderId}: true`);
    expect((await orderRow(app.db, stale.orderId)).status).toBe('closed');
    expect((await eventsOf(app.db, stale.orderId)).map((e) => e.detail)).toContain('order closed: nothing left to pay: every attempt closed or failed and the payment window is over');
    // Still inside its window (the buyer may pay again on it), or still payable: left alone.
    expect((await orderRow(app.db, fresh.orderId)).status).toBe('pending');
    expect((await orderRow(app.db, live.orderId)).status).toBe('pending');
  });

  it('processing refunds older than the grace are followed: REFUNDNOTEXIST resubmits, SUCCESS applies', async () => {
    const paid = await seedPaidOrder(app.db, { amountFen: 300 });
    const lost = await seedProcessingRefund(app.db, paid, { amountFen: 100, agoMs: 5 * 60_000 });
    const done = await seedProcessingRefund(app.db, paid, { amountFen: 200, agoMs: 4 * 60_000 });
    const young = await seedProcessingRefund(app.db, await seedPaidOrder(app.db), {});
    wx.answer('/pay/refundquery', (req) => (req.fields.out_refund_no === lost ? wxFail('REFUNDNOTEXIST') : wxRefundQuery(done, 'SUCCESS', 200)));
    wx.answer('/secapi/pay/refund', wxOk());

    expect(await reconciler.reconcileOnce(S)).toEqual([`refund ${lost}: resubmitted ${lost}`, `refund ${done}: ${done}: SUCCESS (applied)`]);
    expect(wx.to('/pay/refundquery').map((r) => r.fields.out_refund_no)).toEqual([lost, done]);
    expect(wx.to('/secapi/pay/refund').map((r) => r.fields.out_refund_no)).toEqual([lost]);
    expect((await refundRow(app.db, young)).status).toBe('processing');
    const order = await orderRow(app.db, paid.orderId);
    expect([order.status, order.refunded_fen]).toEqual(['partially_refunded', 200]);
  });

  it.each([
    ['HTTP 500', wxHttp(500)],
    ['a dropped connection', 'drop' as const],
  ])('closeorder failing with %s: each item logged, the rows left for the next round, which closes them', async (_what, failure) => {
    const as = await expired(2);
    wx.answer('/pay/closeorder', failure);
    expect(await reconciler.reconcileOnce(S)).toEqual([]);
    expect(wx.to('/pay/closeorder')).toHaveLength(6); // two items, each tried three times by the client
    expect(await statusOf(as)).toEqual(['open', 'open']);
    const failed = logs.lines.filter((l) => l.event === 'reconciler_item');
    expect(failed.map((l) => [l.level, l.item])).toEqual([['warn', `expired ${as[0].outTradeNo}`], ['warn', `expired ${as[1].outTradeNo}`]]);
    expect((await orderRow(app.db, as[0].orderId)).status).toBe('pending');
    expect(await eventsOf(app.db, as[0].orderId)).toEqual([]);

    wx.answer('/pay/closeorder', wxOk());
    expect(await reconciler.reconcileOnce(S)).toHaveLength(2);
    expect(await statusOf(as)).toEqual(['closed', 'closed']);
    expect((await orderRow(app.db, as[1].orderId)).status).toBe('closed');
  });

  it('reconcileRound: one log line per round with what it found, and the sweep counters moved', async () => {
    const { getConfig } = await import('@/lib/config');
    const { metrics } = await import('@/lib/metrics');
    const ran = async () => (await metrics().reconcilerSweeps.get()).values.find((v) => v.labels.result === 'ran')?.value ?? 0;
    const expiredFound = async () => (await metrics().reconcilerFindings.get()).values.find((v) => v.labels.kind === 'expired')?.value ?? 0;
    const [ran0, expired0] = [await ran(), await expiredFound()];
    const as = await expired(1);
    wx.answer('/pay/closeorder', wxOk());
    const r = await reconciler.reconcileRound(getConfig(), S);
    expect(r).toMatchObject({ ran: true, done: [expect.stringContaining(`expired ${as[0].outTradeNo}`)] });
    expect(await ran()).toBe(ran0 + 1);
    expect(await expiredFound()).toBe(expired0 + 1);
    const lines = logs.lines.filter((l) => l.event === 'reconciler_sweep');
    expect(lines).toEqual([expect.objectContaining({ level: 'info', outcome: 'ran', findings: { expired: 1 }, duration_ms: expect.any(Number) })]);
    // A round with nothing to do says so at debug only.
    await reconciler.reconcileRound(getConfig(), S);
    expect(logs.lines.filter((l) => l.event === 'reconciler_sweep').map((l) => [l.level, l.findings])).toEqual([['info', { expired: 1 }], ['debug', {}]]);
  });

  it('startReconciler: a round that fails is logged, and the next round still runs (the running flag is released)', async () => {
    const { getConfig } = await import('@/lib/config');
    const quiet = await insertOrder(app.db, { amountFen: 100, createdAgoMs: 2 * 60_000, codeUrl: QR });
    wx.answer('/pay/orderquery', wxOk({ trade_state: 'SUCCESS', out_trade_no: quiet.outTradeNo, transaction_id: '4200000000000000000000000303', total_fee: '100' }));
    // The database refuses the round's orderquery claim (outside any item's own error handling), so the
    // whole round throws.
    await sql`create trigger refuse_claim before update of last_query_at on orders begin select raise(abort, 'claim refused (test)'); end`.execute(app.db);
    const stop = reconciler.startReconciler(getConfig(), { ...S, intervalMs: 25 });
    try {
      const roundFailed = () => logs.lines.filter((l) => l.event === 'reconciler_sweep' && l.outcome === 'failed');
      await until(() => roundFailed().length >= 2, 'two failed rounds');
      expect(roundFailed()[0]).toMatchObject({ level: 'error', err: { message: expect.stringMatching(/claim refused \(test\)/) } });
      expect(wx.to('/pay/orderquery')).toEqual([]);
      expect((await orderRow(app.db, quiet.orderId)).status).toBe('pending');

      await sql`drop trigger refuse_claim`.execute(app.db);
      await until(async () => (await orderRow(app.db, quiet.orderId)).status === 'paid', 'a later round to apply the payment');
      expect(wx.to('/pay/orderquery').map((r) => r.fields.out_trade_no)).toContain(quiet.outTradeNo);
    } finally {
      await stop();
      await sql`drop trigger if exists refuse_claim`.execute(app.db);
    }
  });
});
