import { describe, expect, it } from 'vitest';
import { billAmountFen, parseBill } from '../../../lib/wechatpay/bill';

// docs/wechatpay-v2.md §8: the ALL header and the summary header, verbatim.
const HEADER = '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
const SUMMARY = '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';
const row = (cells: string[]) => cells.map((c) => `\`${c}`).join(',');
const PAID = ['2026-03-02 00:30:05', 'wxd930ea5d5a258f4f', '10000100', '0', 'WEB', '4200000001202603020000000001', '0012', 'oUser', 'JSAPI', 'SUCCESS', 'CMC', 'CNY', '0.01', '0.00', '0', '0', '0.00', '0.00', '', '', '测试,商品', 'a=1', '0.00000', '0.60%', '0.01', '0.00', ''];
const REFUND = [...PAID.slice(0, 9), 'REFUND', ...PAID.slice(10, 14), '50300000012026030200000001', 'R1', '0.01', '0.00', 'ORIGINAL', 'SUCCESS', ...PAID.slice(20, 25), '0.01', ''];

describe('parseBill', () => {
  const text = `\uFEFF${HEADER}\r\n${row(PAID)}\r\n${row(REFUND)}\r\n${SUMMARY}\r\n${row(['2', '0.01', '0.01', '0.00', '0.00000', '0.01', '0.01'])}\r\n`;
  it('strips the BOM and backticks, keeps commas inside a cell, types the rows', () => {
    const bill = parseBill(text);
    expect(bill.header).toHaveLength(27);
    expect(bill.rows).toHaveLength(2);
    expect(bill.rows[0]).toMatchObject({ trade_time: '2026-03-02 00:30:05', out_trade_no: '0012', transaction_id: '4200000001202603020000000001', trade_state: 'SUCCESS', total_fee: '0.01', body: '测试,商品', rate_remark: '' });
    expect(bill.rows[0].columns['商户订单号']).toBe('0012');
    expect(bill.rows[1]).toMatchObject({ trade_state: 'REFUND', out_refund_no: 'R1', refund_fee: '0.01', refund_status: 'SUCCESS' });
    expect(bill.summary).toMatchObject({ total_count: '2', settlement_total_fee: '0.01', refund_fee: '0.01', total_fee: '0.01', apply_refund_fee: '0.01' });
  });
  it('reads an empty bill (header and summary only) with LF endings', () => {
    const bill = parseBill(`${HEADER}\n${SUMMARY}\n${row(['0', '0.00', '0.00', '0.00', '0.00000', '0.00', '0.00'])}\n`);
    expect(bill.rows).toEqual([]);
    expect(bill.summary.total_count).toBe('0');
  });
  it('refuses malformed bills with BILL_FORMAT', () => {
    const bad = expect.objectContaining({ code: 'BILL_FORMAT' });
    expect(() => parseBill('')).toThrow(bad);
    expect(() => parseBill('<xml><return_code>FAIL</return_code></xml>')).toThrow(bad);
    expect(() => parseBill(`${HEADER}\n${row(PAID.slice(1))}\n${SUMMARY}\n${row(['1', '0', '0', '0', '0', '0', '0'])}`)).toThrow(bad);
    expect(() => parseBill(`${HEADER}\n${row(PAID)}\n${row(PAID)}\n${row(PAID)}`)).toThrow(bad);
    expect(() => parseBill(`${HEADER}\n${SUMMARY}\n${row(['1', '0'])}`)).toThrow(bad);
  });
});

describe('billAmountFen', () => {
  it('converts yuan text to integer fen exactly', () => {
    expect(billAmountFen('0.01')).toBe(1);
    expect(billAmountFen('0.1')).toBe(10);
    expect(billAmountFen('1234.56')).toBe(123456);
    expect(billAmountFen('19.99')).toBe(1999);
    expect(billAmountFen('-1.00')).toBe(-100);
    expect(billAmountFen('5')).toBe(500);
    expect(billAmountFen('0.00000')).toBeUndefined();
    expect(billAmountFen('abc')).toBeUndefined();
    expect(billAmountFen(undefined)).toBeUndefined();
  });
});
