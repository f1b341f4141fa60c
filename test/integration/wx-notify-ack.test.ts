import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { placeSandboxAttempt } from '../helpers/orders';
import { notifyReceiver, outTradeNo, sandboxOrder, sandboxPay, SUCCESS_REPLY, waitFor, wxPost } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';

/*
 * The notify acknowledgement over real HTTP, read as WeChat reads it (lib/sandbox/notify-ack.ts; the
 * sources are quoted in test/unit/sandbox-notify-ack.test.ts): only HTTP 200 with the XML whose
 * return_code is SUCCESS stops the retries. "当返回内容不是XML格式的SUCCESS时，微信侧会认为商户侧没有收到
 * 或者处理通知，所以会重推回调通知" (developers.weixin.qq.com/community/pay/doc/0004c8304880a08cd3eab3b205b800).
 */
describe('notify acknowledgements', () => {
  let app: AppServer;
  let h: DbHandle;
  beforeAll(async () => {
    app = await startApp({ env: { RECONCILE_INTERVAL_MS: '0' } });
    h = openDb(app.databaseUrl);
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });

  const settled = (otn: string) => waitFor(async () => {
    const d = (await sandboxOrder(app.baseUrl, otn))?.deliveries.find((x: any) => x.kind === 'pay');
    return d && d.status !== 'pending' ? d : undefined;
  }, 20_000, `the delivery of ${otn} to settle`);

  it('raw HTTP: the XML in quotes, lower-case success and the XML after a PHP notice are retried; the documented XML ends it', async () => {
    const replies = [JSON.stringify(SUCCESS_REPLY), SUCCESS_REPLY.replace('SUCCESS', 'success'), `Notice: Undefined index: attach\n${SUCCESS_REPLY}`, SUCCESS_REPLY];
    const rx = await notifyReceiver((n) => ({ status: 200, body: replies[Math.min(n, replies.length - 1)] }));
    try {
      const f = { body: '应答测试', out_trade_no: outTradeNo('AK'), total_fee: '3', spbill_create_ip: '127.0.0.1', notify_url: rx.url, trade_type: 'NATIVE', product_id: 'p1' };
      const u = await wxPost(app.baseUrl, 'unifiedorder', f);
      await sandboxPay(app.baseUrl, { code_url: u.fields.code_url });
      const d = await settled(f.out_trade_no);
      expect(d).toMatchObject({ status: 'delivered', attempts: 4 });
      expect(d.log.map((a: any) => [a.status, a.accepted])).toEqual([[200, false], [200, false], [200, false], [200, true]]);
      expect(rx.received).toHaveLength(4);
    } finally {
      await rx.close();
    }
  });

  it('the app acknowledges a payment notify the strict way: delivered at the first attempt', async () => {
    const a = await placeSandboxAttempt(app, h.db, {});
    await sandboxPay(app.baseUrl, { code_url: a.codeUrl! });
    const d = await settled(a.outTradeNo);
    expect(d).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(d.log[0]).toMatchObject({ status: 200, accepted: true });
    expect((await h.db.selectFrom('orders').select('status').where('id', '=', a.orderId).executeTakeFirstOrThrow()).status).toBe('paid');
  });
});
