import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptReqInfo } from '@/lib/wechatpay/crypto';
import { sign, type SignType } from '@/lib/wechatpay/sign';
import { parseXml } from '@/lib/wechatpay/xml';
import { ENGINES } from '../helpers/db';
import { type AppServer, startApp } from '../helpers/server';
import { FAIL_REPLY, notifyReceiver, outTradeNo, SBX, sandboxOrder, sandboxPay, setFaults, SUCCESS_REPLY, waitFor, wxPost } from '../helpers/sandbox';

/**
 * The delivery of one order once its record is final (delivered or failed: no retry is scheduled, so
 * nothing more will be posted). The receiver sees a post before the sandbox records the reply, so a
 * test waits for this record, never for a quiet period.
 */
async function settledDelivery(base: string, outTradeNo: string, kind = 'pay', ms?: number): Promise<Record<string, any>> {
  return waitFor(async () => {
    const d = (await sandboxOrder(base, outTradeNo))?.deliveries.find((x: any) => x.kind === kind);
    return d && d.status !== 'pending' ? d : undefined;
  }, ms, `the ${kind} delivery of ${outTradeNo} to settle`);
}

async function paidNative(base: string, notifyUrl: string, signType: SignType = 'MD5', totalFee = '7') {
  const f = { body: '通知测试', out_trade_no: outTradeNo('N'), total_fee: totalFee, spbill_create_ip: '127.0.0.1', notify_url: notifyUrl, trade_type: 'NATIVE', product_id: 'p1', attach: 'ctx' };
  const u = await wxPost(base, 'unifiedorder', f, { signType });
  expect(u.fields.result_code, u.text).toBe('SUCCESS');
  const p = await sandboxPay(base, { code_url: u.fields.code_url });
  expect(p.status).toBe(200);
  return { outTradeNo: f.out_trade_no, transactionId: p.json.transaction_id as string };
}

describe.each(ENGINES)('sandbox notifier on %s', (engine) => {
  let app: AppServer;
  let base: string;
  beforeAll(async () => {
    app = await startApp({ engine });
    base = app.baseUrl;
  });
  afterAll(async () => app?.stop());

  it('a receiver that fails twice then succeeds sees exactly three deliveries, 15 s and 15 s apart scaled by 1000', async () => {
    // Plain "success" with 200 and the right XML with 500 are both failures: only 200 + SUCCESS XML counts.
    const rx = await notifyReceiver((n) => (n === 0 ? { status: 200, body: 'success' } : n === 1 ? { status: 500, body: SUCCESS_REPLY } : { status: 200, body: SUCCESS_REPLY }));
    try {
      const o = await paidNative(base, rx.url);
      // The record is final after the 3rd attempt: delivered, no next retry scheduled, so no 4th post can come.
      const d = await settledDelivery(base, o.outTradeNo);
      expect(d).toMatchObject({ kind: 'pay', status: 'delivered', attempts: 3, next_at: null });
      expect(rx.received).toHaveLength(3);
      // Retries wait the scaled 15 s (15 ms) and no less. The upper end only says "scaled": unscaled, a
      // retry would come 15 000 ms later (any tighter bound is a timing guess that fails on a busy machine).
      // The give-up test below checks every step of the schedule from below.
      const gaps = [rx.received[1].at - rx.received[0].at, rx.received[2].at - rx.received[1].at];
      for (const g of gaps) {
        expect(g).toBeGreaterThanOrEqual(14);
        expect(g).toBeLessThan(7_500);
      }
      expect(new Set(rx.received.map((r) => r.body)).size).toBe(1); // every retry sends the same notify
      const order = await sandboxOrder(base, o.outTradeNo);
      expect(order!.deliveries).toHaveLength(1);
      expect(order!.deliveries[0].id).toBe(d.id);
      expect(d.log.map((a: any) => [a.status, a.accepted])).toEqual([[200, false], [500, false], [200, true]]);
      expect(d.log[0].reply).toBe('success');

      // The notify: full field set, no sign_type, signed MD5 (the order's type), same payment fields as orderquery.
      const n = parseXml(rx.received[2].body);
      expect(n.sign_type).toBeUndefined();
      expect(n.sign).toBe(sign(n, SBX.apiKey, 'MD5'));
      for (const k of ['appid', 'mch_id', 'nonce_str', 'openid', 'is_subscribe', 'trade_type', 'bank_type', 'total_fee', 'fee_type', 'cash_fee', 'transaction_id', 'out_trade_no', 'time_end']) {
        expect(n[k], k).toBeTruthy();
      }
      expect(n).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS', appid: SBX.appid, mch_id: SBX.mchId, out_trade_no: o.outTradeNo, transaction_id: o.transactionId, total_fee: '7', attach: 'ctx' });
      expect(n.time_end).toMatch(/^\d{14}$/);
      const q = await wxPost(base, 'orderquery', { out_trade_no: o.outTradeNo });
      for (const k of ['openid', 'is_subscribe', 'trade_type', 'bank_type', 'total_fee', 'cash_fee', 'transaction_id', 'time_end', 'attach']) expect(q.fields[k], k).toBe(n[k]);
    } finally {
      await rx.close();
    }
  });

  it('an HMAC-SHA256 order gets an HMAC-signed notify, still without sign_type', async () => {
    const rx = await notifyReceiver(() => ({ status: 200, body: SUCCESS_REPLY }));
    try {
      await paidNative(base, rx.url, 'HMAC-SHA256');
      await waitFor(async () => rx.received.length >= 1);
      const n = parseXml(rx.received[0].body);
      expect(n.sign_type).toBeUndefined();
      expect(n.sign).toBe(sign(n, SBX.apiKey, 'HMAC-SHA256'));
      expect(n.sign).not.toBe(sign(n, SBX.apiKey, 'MD5'));
    } finally {
      await rx.close();
    }
  });

  it('DROP_NOTIFY sends nothing for the next payment (orderquery still says SUCCESS); DUPLICATE_NOTIFY posts twice at once', async () => {
    // The first request is answered only once the second has arrived: if the duplicate were not posted
    // concurrently (or not at all), the first post would time out (5 s) and be logged as a failed attempt.
    let secondArrived!: () => void;
    const second = new Promise<void>((r) => (secondArrived = r));
    const rx = await notifyReceiver(async (n) => {
      if (n === 0) await second;
      if (n === 1) secondArrived();
      return { status: 200, body: SUCCESS_REPLY };
    });
    const faults = async () => ((await (await fetch(`${base}/sandbox/sim/faults`)).json()) as { faults: unknown[] }).faults;
    try {
      await setFaults(base, { fault: 'DROP_NOTIFY', count: 1 });
      const dropped = await paidNative(base, rx.url);
      // The pay call returns after the notify is queued (or dropped): no delivery row, so nothing can be sent.
      expect((await sandboxOrder(base, dropped.outTradeNo))!.deliveries).toEqual([]);
      expect(await faults()).toEqual([]);
      expect(rx.received).toHaveLength(0);
      expect((await wxPost(base, 'orderquery', { out_trade_no: dropped.outTradeNo })).fields.trade_state).toBe('SUCCESS');

      await setFaults(base, { fault: 'DUPLICATE_NOTIFY', count: 1 });
      const dup = await paidNative(base, rx.url);
      const dd = await settledDelivery(base, dup.outTradeNo);
      // One attempt made of two accepted posts: sent together, not a retry; delivered, so nothing follows.
      expect(dd).toMatchObject({ status: 'delivered', attempts: 1, next_at: null, duplicate: true });
      expect(dd.log.map((a: any) => [a.attempt, a.status, a.accepted, a.error])).toEqual([[1, 200, true, null], [1, 200, true, null]]);
      expect(rx.received).toHaveLength(2);
      expect(rx.received[0].body).toBe(rx.received[1].body);
      expect(parseXml(rx.received[0].body).out_trade_no).toBe(dup.outTradeNo);

      const next = await paidNative(base, rx.url); // faults consumed: one notify again
      const nd = await settledDelivery(base, next.outTradeNo);
      expect(nd).toMatchObject({ status: 'delivered', attempts: 1, next_at: null, duplicate: false });
      expect(nd.log).toHaveLength(1);
      expect(rx.received).toHaveLength(3);
      expect(parseXml(rx.received[2].body).out_trade_no).toBe(next.outTradeNo);
      expect(await faults()).toEqual([]);

      // The dropped payment never got a delivery, then or later.
      expect((await sandboxOrder(base, dropped.outTradeNo))!.deliveries).toEqual([]);
      expect(rx.received.map((r) => parseXml(r.body).out_trade_no)).toEqual([dup.outTradeNo, dup.outTradeNo, next.outTradeNo]);
    } finally {
      secondArrived();
      await rx.close();
    }
  });

  it('a refund sends a refund notify with req_info encrypted by md5(API key); Resend posts it again', async () => {
    const rx = await notifyReceiver(() => ({ status: 200, body: SUCCESS_REPLY }));
    const pay = await notifyReceiver(() => ({ status: 200, body: SUCCESS_REPLY }));
    try {
      const o = await paidNative(base, pay.url, 'MD5', '300');
      const r = await wxPost(base, 'refund', { out_trade_no: o.outTradeNo, out_refund_no: outTradeNo('RF'), total_fee: '300', refund_fee: '120', notify_url: rx.url });
      expect(r.fields.result_code, r.text).toBe('SUCCESS');
      await waitFor(async () => rx.received.length >= 1);
      const outer = parseXml(rx.received[0].body);
      expect(outer).toMatchObject({ return_code: 'SUCCESS', appid: SBX.appid, mch_id: SBX.mchId });
      expect(outer.sign).toBeUndefined();
      const info = parseXml(decryptReqInfo(outer.req_info, SBX.apiKey), { rootName: 'root' });
      expect(info).toMatchObject({ out_trade_no: o.outTradeNo, transaction_id: o.transactionId, out_refund_no: r.fields.out_refund_no, refund_id: r.fields.refund_id, refund_fee: '120', total_fee: '300', refund_status: 'SUCCESS' });
      expect(info.success_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

      // The receiver has the body before the sandbox has recorded our reply: wait for the record.
      const refundDelivery = await waitFor(async () => {
        const d = (await sandboxOrder(base, o.outTradeNo))!.deliveries.find((x: any) => x.kind === 'refund');
        return d?.status === 'delivered' ? d : undefined;
      });
      const resend = await fetch(`${base}/sandbox/sim/deliveries/resend`, { method: 'POST', body: new URLSearchParams({ id: refundDelivery.id }), redirect: 'manual' });
      expect(resend.status).toBe(303);
      await waitFor(async () => rx.received.length >= 2);
      expect(rx.received[1].body).toBe(rx.received[0].body);
    } finally {
      await rx.close();
      await pay.close();
    }
  });
});

describe('sandbox notifier gives up after the whole schedule (SQLite, SANDBOX_TIME_SCALE=20000)', () => {
  let app: AppServer;
  beforeAll(async () => {
    app = await startApp({ env: { SANDBOX_TIME_SCALE: '20000' } });
  });
  afterAll(async () => app?.stop());

  it('makes 16 attempts (1 + 15 retries, 24h04m scaled) then marks the delivery failed', async () => {
    const rx = await notifyReceiver(() => ({ status: 200, body: FAIL_REPLY }));
    try {
      const o = await paidNative(app.baseUrl, rx.url);
      const d = await waitFor(async () => {
        const ord = await sandboxOrder(app.baseUrl, o.outTradeNo);
        return ord?.deliveries[0]?.status === 'failed' ? ord.deliveries[0] : undefined;
      }, 30_000, 200);
      // Failed with no retry scheduled: the 16 posts are all there will be.
      expect(d).toMatchObject({ attempts: 16, next_at: null });
      expect(d.log).toHaveLength(16);
      expect(rx.received).toHaveLength(16);
      const span = rx.received[15].at - rx.received[0].at;
      expect(span).toBeGreaterThanOrEqual(Math.floor((24 * 3600 + 4 * 60) * 1000 / 20000) - 5);
      // Each retry waits at least its step of WeChat's schedule (scaled); timers never fire early.
      const scheduleS = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];
      scheduleS.forEach((s, i) => expect(rx.received[i + 1].at - rx.received[i].at, `retry ${i + 1}`).toBeGreaterThanOrEqual(Math.floor((s * 1000) / 20000) - 1));
    } finally {
      await rx.close();
    }
  });
});

describe.each(ENGINES)('sandbox state survives a restart on %s', (engine) => {
  let first: AppServer | undefined;
  let second: AppServer | undefined;
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
  });

  it('a pending delivery resumes in the next server process; orders and users persist', async () => {
    // Slow schedule in the first process (15 s / 2 = 7.5 s) so the retry is still pending when it stops.
    first = await startApp({ engine, env: { SANDBOX_TIME_SCALE: '2' } });
    const rx = await notifyReceiver((n) => (n === 0 ? { status: 503, body: 'busy' } : { status: 200, body: SUCCESS_REPLY }));
    try {
      const o = await paidNative(first.baseUrl, rx.url);
      await waitFor(async () => rx.received.length >= 1);
      const before = await sandboxOrder(first.baseUrl, o.outTradeNo);
      const pending = await waitFor(async () => {
        const d = (await sandboxOrder(first!.baseUrl, o.outTradeNo))!.deliveries[0];
        return d.attempts === 1 ? d : undefined;
      });
      expect(pending).toMatchObject({ status: 'pending', attempts: 1 });
      expect(pending.next_at).toEqual(expect.any(String)); // the retry is scheduled, for the next process to find
      await first.stop();
      expect(rx.received).toHaveLength(1);

      second = await startApp({ databaseUrl: first.databaseUrl });
      await waitFor(async () => rx.received.length >= 2, 20_000, 100);
      const after = await waitFor(async () => {
        const ord = await sandboxOrder(second!.baseUrl, o.outTradeNo);
        return ord?.deliveries[0]?.status === 'delivered' ? ord : undefined;
      });
      // Delivered with no retry scheduled: the record says no further post will come.
      expect(after.deliveries[0]).toMatchObject({ attempts: 2, next_at: null });
      expect(rx.received).toHaveLength(2);
      expect(after.deliveries[0].log.map((a: any) => a.status)).toEqual([503, 200]);
      expect(after.prepay_id).toBe(before!.prepay_id);
      expect(rx.received[1].body).toBe(rx.received[0].body);
      const q = await wxPost(second.baseUrl, 'orderquery', { out_trade_no: o.outTradeNo });
      expect(q.fields).toMatchObject({ trade_state: 'SUCCESS', transaction_id: o.transactionId });
    } finally {
      await rx.close();
    }
  });
});
