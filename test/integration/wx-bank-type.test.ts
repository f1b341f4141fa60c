import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { verify } from '@/lib/wechatpay/sign';
import { formatWxTime } from '@/lib/wechatpay/time';
import { parseXml } from '@/lib/wechatpay/xml';
import { placeSandboxAttempt, waitFor } from '../helpers/orders';
import { notifyReceiver, outTradeNo, SBX, sandboxOrder, sandboxPay, SUCCESS_REPLY, wxPost } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';

/*
 * bank_type. WeChat reports OTHERS for a payment that is not a bank card: "实际操作中使用零钱支付bank_type返回的是
 * OTHERS，文档中说明是'其他（银行卡除外）'" (developers.weixin.qq.com/community/develop/doc/00082a655ecab8fa53da568b351c00,
 * found with `search`), and merchants see OTHERS on a large share of orders ("许多订单中返回 'OTHERS'，无法得知是属于
 * 借记类还是贷记类消费"); a card is a code from the 参数规定 page's 银行类型 table
 * (https://pay.weixin.qq.com/doc/v2/merchant/4011941162: ICBC_DEBIT, CMB_CREDIT, ...). The old CFT is not sent.
 * A merchant that maps bank_type to a known list must not refuse the payment for it.
 */
describe('bank_type in notifies', () => {
  let app: AppServer;
  let h: DbHandle;
  let rx: Awaited<ReturnType<typeof notifyReceiver>>;
  beforeAll(async () => {
    app = await startApp({ env: { RECONCILE_INTERVAL_MS: '0' } });
    h = openDb(app.databaseUrl);
    rx = await notifyReceiver(() => ({ status: 200, body: SUCCESS_REPLY }));
  });
  afterAll(async () => {
    await rx?.close();
    await h?.close();
    await app?.stop();
  });

  const order = async () => {
    const f = {
      body: '沙箱测试商品', out_trade_no: outTradeNo('BT'), total_fee: '1', spbill_create_ip: '127.0.0.1',
      notify_url: rx.url, trade_type: 'NATIVE', product_id: 'sku-1', time_expire: formatWxTime(Date.now() + 10 * 60_000),
    };
    return { f, codeUrl: (await wxPost(app.baseUrl, 'unifiedorder', f)).fields.code_url };
  };
  const notifyFor = (otn: string) => waitFor(async () => rx.received.map((r) => parseXml(r.body)).find((n) => n.out_trade_no === otn), 15_000, `the notify of ${otn}`);

  it('raw HTTP: a wallet payment is bank_type OTHERS in the notify and orderquery (never CFT)', async () => {
    const { f, codeUrl } = await order();
    await sandboxPay(app.baseUrl, { code_url: codeUrl });
    const n = await notifyFor(f.out_trade_no);
    expect(verify(n, SBX.apiKey)).toBe(true);
    expect(n.bank_type).toBe('OTHERS');
    expect((await wxPost(app.baseUrl, 'orderquery', { out_trade_no: f.out_trade_no })).fields.bank_type).toBe('OTHERS');
  });

  it('raw HTTP: a card payment carries its code; a malformed bank_type is refused and pays nothing', async () => {
    const { f, codeUrl } = await order();
    const bad = await sandboxPay(app.baseUrl, { code_url: codeUrl, bank_type: 'cmb credit' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('bank_type') });
    expect((await sandboxOrder(app.baseUrl, f.out_trade_no))?.state).toBe('NOTPAY');
    await sandboxPay(app.baseUrl, { code_url: codeUrl, bank_type: 'CMB_CREDIT' });
    expect((await notifyFor(f.out_trade_no)).bank_type).toBe('CMB_CREDIT');
  });

  it('the app applies a payment whatever its bank_type (OTHERS and a card)', async () => {
    for (const bank of [undefined, 'ICBC_DEBIT']) {
      const a = await placeSandboxAttempt(app, h.db, {});
      await sandboxPay(app.baseUrl, { code_url: a.codeUrl!, bank_type: bank });
      await waitFor(async () => (await h.db.selectFrom('orders').select('status').where('id', '=', a.orderId).executeTakeFirstOrThrow()).status === 'paid', 15_000, 'the order paid');
      const ev = await h.db.selectFrom('payment_events').select(['source', 'outcome', 'raw']).where('out_trade_no', '=', a.outTradeNo).execute();
      expect(ev).toEqual([expect.objectContaining({ source: 'notify', outcome: 'applied', raw: expect.stringContaining(`<bank_type><![CDATA[${bank ?? 'OTHERS'}]]></bank_type>`) })]);
    }
  });
});
