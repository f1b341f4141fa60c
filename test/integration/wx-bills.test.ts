import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, openDb } from '@/lib/db';
import { formatWxDate } from '@/lib/wechatpay/time';
import { sandboxClient } from '../helpers/orders';
import { outTradeNo, sandboxPay, wxPost } from '../helpers/sandbox';
import { type AppServer, startApp } from '../helpers/server';
import { sandboxV3Client } from '../helpers/v3';

/*
 * When a bill exists, with WeChat's default (SANDBOX_BILL_READY_HOUR unset: 10:00 UTC+8 the next day).
 * The downloadbill page (https://pay.weixin.qq.com/doc/v2/merchant/4011985040, found with `search`):
 * "微信在次日9点启动生成前一天的对账单，建议商户10点后再获取", "对账单接口只能下载三个月以内的账单", and its
 * failure carries error_code ("错误码 error_code String(16) 20002"); merchants quote the answer:
 * "<return_code>FAIL</return_code><return_msg>No Bill Exist</return_msg><error_code>20002</error_code>"
 * (developers.weixin.qq.com/community/pay/doc/00046483e60c7082f8b2d1a3a69400). API v3's tradebill page:
 * STATEMENT_CREATING 账单生成中, INVALID_REQUEST 请检查bill_date ("仅支持三个月内的账单下载申请").
 * Paid orders are moved back in time in the sandbox's table (the only way to have a day that is over).
 */
const DAY = 86_400_000;

describe('bills appear the next morning and only for 3 months', () => {
  let app: AppServer;
  let h: DbHandle;
  beforeAll(async () => {
    app = await startApp();
    h = openDb(app.databaseUrl);
  });
  afterAll(async () => {
    await h?.close();
    await app?.stop();
  });

  /** A paid order, moved to `daysAgo` (its payment time and its creation). */
  const paidDaysAgo = async (daysAgo: number) => {
    const f = { body: '账单测试', out_trade_no: outTradeNo('BL'), total_fee: '5', spbill_create_ip: '127.0.0.1', notify_url: 'http://127.0.0.1:9/n', trade_type: 'NATIVE', product_id: 'p1' };
    const u = await wxPost(app.baseUrl, 'unifiedorder', f);
    await sandboxPay(app.baseUrl, { code_url: u.fields.code_url });
    const when = new Date(Date.now() - daysAgo * DAY).toISOString();
    await (h.db as any).updateTable('sandbox_orders').set({ paid_at: when, created_at: when }).where('out_trade_no', '=', f.out_trade_no).execute();
    return { otn: f.out_trade_no, date: formatWxDate(Date.now() - daysAgo * DAY) };
  };
  const noBill = { return_code: 'FAIL', return_msg: 'No Bill Exist', error_code: '20002' };

  it('raw HTTP: today\'s bill does not exist yet (No Bill Exist, error_code 20002) although it has a payment', async () => {
    const today = await paidDaysAgo(0);
    expect((await wxPost(app.baseUrl, 'downloadbill', { bill_date: today.date })).fields).toEqual(noBill);
  });

  it('raw HTTP: the bill of two days ago is there (its next morning has passed), with the payment in it', async () => {
    const old = await paidDaysAgo(2);
    const r = await wxPost(app.baseUrl, 'downloadbill', { bill_date: old.date });
    expect(r.status).toBe(200);
    expect(r.text).toContain(`\`${old.otn}`);
  });

  it('raw HTTP: a day more than 3 months back has no bill any more, even with payments in it', async () => {
    const gone = await paidDaysAgo(100);
    expect((await wxPost(app.baseUrl, 'downloadbill', { bill_date: gone.date })).fields).toEqual(noBill);
    // An empty day within reach: the same answer.
    expect((await wxPost(app.baseUrl, 'downloadbill', { bill_date: formatWxDate(Date.now() - 40 * DAY) })).fields).toEqual(noBill);
  });

  it('the client: No Bill Exist is a RETURN_FAIL naming it; an available day parses', async () => {
    const c = sandboxClient(app.baseUrl);
    await expect(c.downloadBill({ bill_date: formatWxDate(Date.now()) })).rejects.toMatchObject({ code: 'RETURN_FAIL', message: expect.stringContaining('No Bill Exist') });
    const old = await paidDaysAgo(3);
    const bill = await c.downloadBill({ bill_date: old.date });
    expect(JSON.stringify(bill)).toContain(old.otn);
  });

  it('API v3: STATEMENT_CREATING for today, INVALID_REQUEST past 3 months, the file for an earlier day', async () => {
    const v3 = await sandboxV3Client(app.baseUrl);
    const iso = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10);
    await expect(v3.tradeBill(iso(Date.now()))).rejects.toMatchObject({ code: 'STATEMENT_CREATING' });
    await expect(v3.tradeBill(iso(Date.now() - 100 * DAY))).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    const old = await paidDaysAgo(2);
    const file = (await v3.downloadBill(await v3.tradeBill(iso(Date.now() - 2 * DAY)))).toString('utf8');
    expect(file).toContain(old.otn);
  });
});
