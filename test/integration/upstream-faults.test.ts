import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import type { Database } from '@/lib/db/schema';
import { ENGINES } from '../helpers/db';
import { actAsInstanceOf, INSTANCE_ENV } from '../helpers/in-process';
import { placeSandboxAttempt, sandboxPay, type TestAttempt, waitFor } from '../helpers/orders';
import { clearFaults, defaultOpenid, type FaultBody, sandboxOrder, setFaults } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';

/**
 * WeChat failing under startPayment, a merchant close and a refund: SYSTEMERROR, HTTP 500, an answer
 * later than the client's 5 s timeout, and a response dropped after WeChat did the work (DROP_RESPONSE:
 * the sandbox commits, then cuts the connection). The client retries each call twice with the same
 * body, so a fault `count` of 2 is absorbed and 3 makes the call fail for the app.
 *
 * Whatever happens: never two WeChat orders for one attempt nor two payable WeChat orders for one
 * order, never two refunds for one refund request nor more refunded than asked, and a result that says
 * what happened. lib/checkout runs in this process as a second instance of the app (its database, its
 * sandbox); the app's own reconciler is off so that nothing else consumes the faults.
 */

type SandboxRow = { out_trade_no: string; state: string; code_url: string | null; prepay_id: string; created_at: string };

describe.each(ENGINES)('upstream faults on %s', (engine) => {
  let app: AppServer;
  let h: DbHandle;
  let db: Kysely<Database>;
  let payments: typeof import('@/lib/checkout/payments');
  let refunds: typeof import('@/lib/checkout/refunds');
  let reconciler: typeof import('@/lib/checkout/reconciler');

  beforeAll(async () => {
    for (const k of [...INSTANCE_ENV, 'SANDBOX_MCH_BASE_URL', 'ORDER_TTL_MINUTES']) delete process.env[k];
    // Closes trades seconds after placing them: WeChat's 5-minute closeorder rule is off here (wx-closeorder.test.ts keeps it).
    app = await startApp({ engine, env: { RECONCILE_INTERVAL_MS: '0', SANDBOX_CLOSE_MIN_AGE_S: '0' } });
    h = openDb(app.databaseUrl);
    db = h.db;
    actAsInstanceOf(app, h, { SANDBOX_MCH_BASE_URL: `${app.baseUrl}/sandbox/mch`, ORDER_TTL_MINUTES: '15' });
    payments = await import('@/lib/checkout/payments');
    refunds = await import('@/lib/checkout/refunds');
    reconciler = await import('@/lib/checkout/reconciler');
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });
  beforeEach(async () => {
    await clearFaults(app.baseUrl);
  });

  const fault = (api: string, f: FaultBody['fault'], count: number, delayMs?: number) => setFaults(app.baseUrl, { api, fault: f, count, delayMs });
  const buyer = (tag: string) => `b_flt${tag}${Math.random().toString(36).slice(2, 10)}`;
  const native = (b: string, quantity = 1) => payments.startPayment({ sku: 'green-tea', quantity, buyerId: b, mode: 'native', clientIp: '203.0.113.9' });
  /** Every trade WeChat (the sandbox) holds for the buyer's orders or for out_trade_nos made since `since`. */
  const wechatOrdersSince = async (since: string): Promise<SandboxRow[]> =>
    (db as unknown as Kysely<{ sandbox_orders: SandboxRow }>).selectFrom('sandbox_orders').selectAll().where('created_at', '>=', since).orderBy('created_at').execute();
  const attemptsOf = async (b: string) => {
    const os = await db.selectFrom('orders').select('id').where('buyer_id', '=', b).execute();
    return os.length ? db.selectFrom('payment_attempts').selectAll().where('order_id', 'in', os.map((o) => o.id)).execute() : [];
  };
  const now = () => new Date(Date.now() - 1).toISOString();

  describe('startPayment', () => {
    it.each([
      ['SYSTEMERROR', 2],
      ['HTTP500', 2],
      ['DROP_RESPONSE', 1],
      ['DROP_RESPONSE', 2],
    ] as const)('%s x%i is absorbed by the client resending the same body: one WeChat order, the buyer gets its QR', async (f, count) => {
      const b = buyer('ok');
      const t0 = now();
      await fault('unifiedorder', f, count);
      const r = await native(b);
      expect(r).toMatchObject({ ok: true, kind: 'native' });
      const attempts = await attemptsOf(b);
      expect(attempts).toHaveLength(1);
      const wx = await wechatOrdersSince(t0);
      expect(wx.map((o) => o.out_trade_no)).toEqual([attempts[0].out_trade_no]);
      expect(attempts[0]).toMatchObject({ status: 'open', code_url: wx[0].code_url });
    });

    it.each([['SYSTEMERROR'], ['HTTP500']] as const)('%s on every try: UPSTREAM, nothing at WeChat; the next tap places one order', async (f) => {
      const b = buyer('fail');
      const t0 = now();
      await fault('unifiedorder', f, 3);
      const r = await native(b);
      expect(r).toMatchObject({ ok: false, code: 'UPSTREAM' });
      expect(r.ok ? '' : r.message).toMatch(/WeChat Pay/);
      expect(await wechatOrdersSince(t0)).toEqual([]);
      const again = await native(b);
      expect(again).toMatchObject({ ok: true, kind: 'native' });
      const attempts = await attemptsOf(b);
      expect((await wechatOrdersSince(t0)).map((o) => o.out_trade_no)).toEqual(attempts.filter((a) => a.status === 'open').map((a) => a.out_trade_no));
    });

    it('every answer dropped after WeChat placed the order: UPSTREAM saying so; the retry re-submits the same out_trade_no and the buyer pays that one order', async () => {
      const b = buyer('drop');
      const t0 = now();
      await fault('unifiedorder', 'DROP_RESPONSE', 3);
      const r = await native(b);
      expect(r).toMatchObject({ ok: false, code: 'UPSTREAM' });
      expect(r.ok ? '' : r.message).toMatch(/did not answer/);
      const placed = await wechatOrdersSince(t0);
      expect(placed).toHaveLength(1); // WeChat did place it
      // The app still knows that trade: a notify or a query for it would find its order.
      const kept = await attemptsOf(b);
      expect(kept.map((a) => a.out_trade_no)).toEqual([placed[0].out_trade_no]);

      // Two taps at once: both get the same QR, of that same trade.
      const [again, twice] = await Promise.all([native(b), native(b)]);
      if (!again.ok || again.kind !== 'native' || !twice.ok || twice.kind !== 'native') throw new Error(`expected QRs: ${JSON.stringify([again, twice])}`);
      expect(twice.orderId).toBe(again.orderId);
      const wx = await wechatOrdersSince(t0);
      expect(wx.map((o) => o.out_trade_no)).toEqual([placed[0].out_trade_no]);
      const attempts = await attemptsOf(b);
      expect(attempts).toHaveLength(1);
      expect(attempts[0]).toMatchObject({ out_trade_no: placed[0].out_trade_no, status: 'open', code_url: placed[0].code_url });

      await sandboxPay(app.baseUrl, placed[0].code_url!);
      await waitFor(async () => (await db.selectFrom('orders').select('status').where('id', '=', again.orderId).executeTakeFirstOrThrow()).status === 'paid', 15_000, 'the payment');
      expect(await native(b)).toMatchObject({ ok: true }); // a new order: the paid one is not offered again
    });

    it('JSAPI: every answer dropped, then the retry gets the prepay_id of the one trade WeChat placed', async () => {
      const b = buyer('jsd');
      const openid = await defaultOpenid(app.baseUrl);
      const t0 = now();
      const tap = () => payments.startPayment({ sku: 'coffee-beans', quantity: 1, buyerId: b, openid, mode: 'jsapi', clientIp: '203.0.113.9' });
      await fault('unifiedorder', 'DROP_RESPONSE', 3);
      expect(await tap()).toMatchObject({ ok: false, code: 'UPSTREAM' });
      const again = await tap();
      if (!again.ok || again.kind !== 'jsapi') throw new Error(`expected JSAPI params: ${JSON.stringify(again)}`);
      const wx = await wechatOrdersSince(t0);
      expect(wx).toHaveLength(1);
      expect(again.params.package).toBe(`prepay_id=${wx[0].prepay_id}`);
    });

    it('a buyer who never comes back: the reconciler leaves the unanswered trade alone, then closes it at WeChat and the order when it expires', async () => {
      const b = buyer('gone');
      const t0 = now();
      await fault('unifiedorder', 'DROP_RESPONSE', 3);
      expect(await native(b)).toMatchObject({ ok: false, code: 'UPSTREAM' });
      const [kept] = await attemptsOf(b);
      const sweep = () => reconciler.reconcileOnce({ intervalMs: 1000, graceMs: 0, batch: 50 });
      await sweep();
      expect(await db.selectFrom('payment_events').select('detail').where('out_trade_no', '=', kept.out_trade_no).execute()).toEqual([]);
      expect((await attemptsOf(b))[0].status).toBe('open');
      // The payment window ends: the attempt's and its order's (an order outlives none of its attempts).
      const ended = new Date(Date.now() - 1000).toISOString();
      await db.updateTable('payment_attempts').set({ expires_at: ended }).where('out_trade_no', '=', kept.out_trade_no).execute();
      await db.updateTable('orders').set({ expires_at: ended }).where('id', '=', kept.order_id).execute();
      await sweep();
      expect((await attemptsOf(b))[0].status).toBe('closed');
      expect((await db.selectFrom('orders').select('status').where('id', '=', kept.order_id).executeTakeFirstOrThrow()).status).toBe('closed');
      expect((await wechatOrdersSince(t0)).map((o) => [o.out_trade_no, o.state])).toEqual([[kept.out_trade_no, 'CLOSED']]);
    });

    it('the re-submission refused (the buyer\'s IP changed: 201 商户订单号重复): the unanswered trade is closed at WeChat, a fresh one placed', async () => {
      const b = buyer('ip');
      const t0 = now();
      await fault('unifiedorder', 'DROP_RESPONSE', 3);
      expect(await native(b)).toMatchObject({ ok: false, code: 'UPSTREAM' });
      const [first] = await wechatOrdersSince(t0);
      const again = await payments.startPayment({ sku: 'green-tea', quantity: 1, buyerId: b, mode: 'native', clientIp: '198.51.100.77' });
      if (!again.ok || again.kind !== 'native') throw new Error(`expected a QR: ${JSON.stringify(again)}`);
      const wx = await wechatOrdersSince(t0);
      expect(wx.map((o) => [o.out_trade_no === first.out_trade_no, o.state])).toEqual([[true, 'CLOSED'], [false, 'NOTPAY']]);
      const attempts = await attemptsOf(b);
      expect(attempts.map((a) => [a.out_trade_no, a.status]).sort()).toEqual([[first.out_trade_no, 'closed'], [wx[1].out_trade_no, 'open']].sort());
      expect(new Set(attempts.map((a) => a.order_id)).size).toBe(1); // the same order, its second attempt
    });

    it('a definite refusal is not re-submitted: the claim goes, and nothing is left at WeChat or here', async () => {
      const b = buyer('ref');
      const t0 = now();
      // An openid this sandbox never issued: PARAM_ERROR (appid和openid不匹配), a business refusal.
      const refused = await payments.startPayment({ sku: 'green-tea', quantity: 1, buyerId: b, openid: 'oNotIssuedByThisSandbox0000000', mode: 'jsapi', clientIp: '203.0.113.9' });
      expect(refused).toMatchObject({ ok: false, code: 'UPSTREAM' });
      expect(refused.ok ? '' : refused.message).toMatch(/did not accept.*PARAM_ERROR/);
      expect(await attemptsOf(b)).toEqual([]);
      expect(await db.selectFrom('orders').select('id').where('buyer_id', '=', b).execute()).toEqual([]);
      expect(await wechatOrdersSince(t0)).toEqual([]);
    });
  });

  describe('merchant close', () => {
    const pending = () => placeSandboxAttempt(app, db, { amountFen: 4500, sku: 'coffee-beans' });
    const state = async (a: TestAttempt) => ({
      order: (await db.selectFrom('orders').select('status').where('id', '=', a.orderId).executeTakeFirstOrThrow()).status,
      attempt: (await db.selectFrom('payment_attempts').select('status').where('out_trade_no', '=', a.outTradeNo).executeTakeFirstOrThrow()).status,
      wechat: (await sandboxOrder(app.baseUrl, a.outTradeNo))?.state,
    });

    it.each([
      ['SYSTEMERROR', 'SYSTEMERROR', 'NOTPAY'],
      ['HTTP500', 'HTTP_ERROR', 'NOTPAY'],
      ['DROP_RESPONSE', 'NETWORK', 'CLOSED'],
    ] as const)('%s on every try: refused with %s, "stays pending"; the merchant tries again and it closes', async (f, code, atWechat) => {
      const a = await pending();
      await fault('closeorder', f, 3);
      const r = await payments.closeUnpaidOrder(a.orderId);
      expect(r).toMatchObject({ ok: false, code });
      expect(r.ok ? '' : r.message).toContain('the order stays pending');
      expect(await state(a)).toEqual({ order: 'pending', attempt: 'open', wechat: atWechat });
      expect(await payments.closeUnpaidOrder(a.orderId)).toEqual({ ok: true, status: 'closed' });
      expect(await state(a)).toEqual({ order: 'closed', attempt: 'closed', wechat: 'CLOSED' });
    });

    it('a dropped answer absorbed by the resend (ORDERCLOSED on the second try) closes the order', async () => {
      const a = await pending();
      await fault('closeorder', 'DROP_RESPONSE', 1);
      expect(await payments.closeUnpaidOrder(a.orderId)).toEqual({ ok: true, status: 'closed' });
      expect(await state(a)).toEqual({ order: 'closed', attempt: 'closed', wechat: 'CLOSED' });
    });

    it('the buyer paid just before the close and its answer is dropped: ORDER_PAID, the order paid once, nothing refunded', async () => {
      const a = await pending();
      await fault('*', 'DROP_NOTIFY', 1);
      await sandboxPay(app.baseUrl, a.codeUrl!);
      await fault('closeorder', 'DROP_RESPONSE', 1);
      expect(await payments.closeUnpaidOrder(a.orderId)).toMatchObject({ ok: false, code: 'ORDER_PAID' });
      expect(await state(a)).toEqual({ order: 'paid', attempt: 'paid', wechat: 'SUCCESS' });
      expect(await db.selectFrom('refunds').selectAll().where('order_id', '=', a.orderId).execute()).toEqual([]);
      const applied = await db.selectFrom('payment_events').select('detail').where('order_id', '=', a.orderId).where('outcome', '=', 'applied').where('detail', 'like', 'paid:%').execute();
      expect(applied).toHaveLength(1);
    });
  });

  describe('refund', () => {
    const paidOrder = async (amountFen = 6800) => {
      const a = await placeSandboxAttempt(app, db, { amountFen, sku: 'green-tea' });
      await sandboxPay(app.baseUrl, a.codeUrl!);
      await waitFor(async () => (await db.selectFrom('orders').select('status').where('id', '=', a.orderId).executeTakeFirstOrThrow()).status === 'paid', 15_000, 'the payment');
      return a;
    };
    const atWechat = async (a: TestAttempt) => {
      const o = await sandboxOrder(app.baseUrl, a.outTradeNo);
      return { refunds: (o?.refunds ?? []) as Array<{ out_refund_no: string; refund_fee: number | string }>, refundedFee: Number(o?.refunded_fee ?? 0) };
    };
    /** The reconciler's sweep (grace 0), as the app runs it every interval. */
    const sweep = () => reconciler.reconcileOnce({ intervalMs: 1000, graceMs: 0, batch: 50 });
    const settled = (outRefundNo: string) =>
      waitFor(async () => {
        await sweep();
        const r = await db.selectFrom('refunds').selectAll().where('out_refund_no', '=', outRefundNo).executeTakeFirstOrThrow();
        return r.status !== 'processing' ? r : undefined;
      }, 15_000, `refund ${outRefundNo} settled`);

    it.each([['DROP_RESPONSE', 1], ['DROP_RESPONSE', 2], ['SYSTEMERROR', 2], ['HTTP500', 2]] as const)(
      '%s x%i is absorbed by the resend with the same out_refund_no: accepted, refunded once',
      async (f, count) => {
        const a = await paidOrder();
        await fault('refund', f, count);
        const r = await refunds.requestRefund({ orderId: a.orderId, amountFen: 2000, reason: 'x', origin: 'merchant' });
        expect(r).toMatchObject({ ok: true, confirmed: true });
        if (!r.ok) return;
        expect((await settled(r.refund.out_refund_no)).status).toBe('succeeded');
        const wx = await atWechat(a);
        expect(wx.refunds.map((x) => x.out_refund_no)).toEqual([r.refund.out_refund_no]);
        expect(wx.refundedFee).toBe(2000);
      },
    );

    it.each([
      ['SYSTEMERROR', false],
      ['HTTP500', false],
      ['DROP_RESPONSE', true],
    ] as const)('%s on every try: not confirmed (and said so), amount held; the reconciler settles it with exactly one refund at WeChat', async (f, reachedWechat) => {
      const a = await paidOrder(6800);
      // Its refund notify is lost too: only the reconciler's refundquery can tell the app how it ended.
      await fault('*', 'DROP_NOTIFY', 1);
      await fault('refund', f, 3);
      const r = await refunds.requestRefund({ orderId: a.orderId, amountFen: 6800, reason: 'x', origin: 'merchant' });
      expect(r).toMatchObject({ ok: true, confirmed: false, refund: { status: 'processing', refund_id: null } });
      if (!r.ok) return;
      expect(r.refund.detail).toMatch(/^not confirmed yet/);
      expect((await atWechat(a)).refunds).toHaveLength(reachedWechat ? 1 : 0);
      // The merchant presses refund again: the held amount is not refunded twice.
      expect(await refunds.requestRefund({ orderId: a.orderId, amountFen: 6800, reason: 'again', origin: 'merchant' })).toMatchObject({ ok: false, code: 'AMOUNT_EXCEEDS' });
      expect(await refunds.requestRefund({ orderId: a.orderId, amountFen: 1, reason: 'again', origin: 'merchant' })).toMatchObject({ ok: false, code: 'AMOUNT_EXCEEDS' });

      expect((await settled(r.refund.out_refund_no)).status).toBe('succeeded');
      const wx = await atWechat(a);
      expect(wx.refunds.map((x) => x.out_refund_no)).toEqual([r.refund.out_refund_no]);
      expect(wx.refundedFee).toBe(6800);
      expect(await db.selectFrom('orders').select(['status', 'refunded_fen']).where('id', '=', a.orderId).executeTakeFirstOrThrow()).toEqual({ status: 'refunded', refunded_fen: 6800 });
      expect(await db.selectFrom('refunds').select('out_refund_no').where('order_id', '=', a.orderId).execute()).toHaveLength(1);
    });
  });

  it('answers later than the client timeout (one slow try each): unifiedorder, closeorder and refund each act once', async () => {
    const b = buyer('slow');
    const toClose = await placeSandboxAttempt(app, db);
    const toRefund = await placeSandboxAttempt(app, db, { amountFen: 6800, sku: 'green-tea' });
    await sandboxPay(app.baseUrl, toRefund.codeUrl!);
    await waitFor(async () => (await db.selectFrom('orders').select('status').where('id', '=', toRefund.orderId).executeTakeFirstOrThrow()).status === 'paid', 15_000, 'the payment');
    const t0 = now();
    // 6 s: past the client's 5 s timeout, so its second try (not delayed) gets there first.
    for (const api of ['unifiedorder', 'closeorder', 'refund']) await fault(api, 'DELAY', 1, 6000);
    const sentAt = Date.now();
    const [started, closed, refunded] = await Promise.all([
      native(b, 2),
      payments.closeUnpaidOrder(toClose.orderId),
      refunds.requestRefund({ orderId: toRefund.orderId, amountFen: 6800, reason: 'slow', origin: 'merchant' }),
    ]);
    expect(started).toMatchObject({ ok: true, kind: 'native' });
    expect(closed).toEqual({ ok: true, status: 'closed' });
    expect(refunded).toMatchObject({ ok: true, confirmed: true });
    // Nothing double while the slow first tries are still running at the sandbox, nor once they have
    // landed (6 s after they were sent): checked again and again until then.
    const landed = sentAt + 6000 + 500;
    await waitFor(async () => {
      const placed = (await wechatOrdersSince(t0)).filter((o) => o.out_trade_no !== toClose.outTradeNo && o.out_trade_no !== toRefund.outTradeNo);
      expect(placed.map((o) => o.out_trade_no)).toEqual((await attemptsOf(b)).map((a) => a.out_trade_no));
      expect((await sandboxOrder(app.baseUrl, toClose.outTradeNo))?.state).toBe('CLOSED');
      const wx = await sandboxOrder(app.baseUrl, toRefund.outTradeNo);
      expect(wx?.refunds).toHaveLength(1);
      expect(Number(wx?.refunded_fee)).toBe(6800);
      return Date.now() > landed;
    }, 15_000, 'the slow tries to land');
  });
});
