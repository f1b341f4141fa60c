import { WechatPayError } from './errors';
import type { WxBill, WxBillRow, WxBillSummary } from './types';

/** Chinese bill headers (docs/wechatpay-v2.md §8) to the wire names used everywhere else. */
const ROW_KEYS: Record<string, keyof Omit<WxBillRow, 'columns'>> = {
  交易时间: 'trade_time',
  公众账号ID: 'appid',
  商户号: 'mch_id',
  特约商户号: 'sub_mch_id',
  子商户号: 'sub_mch_id',
  设备号: 'device_info',
  微信订单号: 'transaction_id',
  商户订单号: 'out_trade_no',
  用户标识: 'openid',
  交易类型: 'trade_type',
  交易状态: 'trade_state',
  付款银行: 'bank_type',
  货币种类: 'fee_type',
  应结订单金额: 'settlement_total_fee',
  代金券金额: 'coupon_fee',
  微信退款单号: 'refund_id',
  商户退款单号: 'out_refund_no',
  退款金额: 'refund_fee',
  充值券退款金额: 'coupon_refund_fee',
  退款类型: 'refund_type',
  退款状态: 'refund_status',
  商品名称: 'body',
  商户数据包: 'attach',
  手续费: 'service_charge',
  费率: 'rate',
  订单金额: 'total_fee',
  申请退款金额: 'apply_refund_fee',
  费率备注: 'rate_remark',
};

const SUMMARY_KEYS: Record<string, keyof Omit<WxBillSummary, 'columns'>> = {
  总交易单数: 'total_count',
  应结订单总金额: 'settlement_total_fee',
  退款总金额: 'refund_fee',
  充值券退款总金额: 'coupon_refund_fee',
  手续费总金额: 'service_charge',
  订单总金额: 'total_fee',
  申请退款总金额: 'apply_refund_fee',
};

function billError(message: string, raw: string): WechatPayError {
  return new WechatPayError(`downloadbill: ${message}`, { code: 'BILL_FORMAT', raw });
}

/**
 * Splits a row. Every cell of data and summary-value rows starts with a backtick (so Excel keeps ids as
 * text); splitting on ",`" rather than "," keeps a comma inside 商品名称 in its cell.
 */
function cells(line: string): string[] {
  if (line.startsWith('`')) return line.slice(1).split(',`');
  return line.split(',');
}

/**
 * Parses the plain-text success answer of downloadbill (not XML, not signed): optional UTF-8 BOM, a
 * header row, backtick-prefixed data rows, then the summary header row (总交易单数,...) and its values.
 * Throws WechatPayError code BILL_FORMAT on anything else.
 * https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6
 */
export function parseBill(text: string): WxBill {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 3) throw billError('too few lines for header, summary header and summary', text);
  const header = cells(lines[0]).map((h) => h.trim());
  if (!header.includes('交易时间')) throw billError('first line is not a bill header', text);
  const summaryAt = lines.findIndex((l, i) => i > 0 && l.replace(/^`/, '').startsWith('总交易单数'));
  if (summaryAt < 0 || summaryAt !== lines.length - 2) throw billError('summary header must be the second-to-last line', text);

  const rows = lines.slice(1, summaryAt).map((line, i) => {
    const values = cells(line);
    if (values.length !== header.length) {
      throw billError(`row ${i + 1} has ${values.length} cells, header has ${header.length}`, text);
    }
    const row: WxBillRow = { columns: {} };
    header.forEach((h, j) => {
      row.columns[h] = values[j];
      const key = ROW_KEYS[h];
      if (key) row[key] = values[j];
    });
    return row;
  });

  const sumHeader = cells(lines[summaryAt]).map((h) => h.trim());
  const sumValues = cells(lines[summaryAt + 1]);
  if (sumValues.length !== sumHeader.length) throw billError('summary values do not match the summary header', text);
  const summary: WxBillSummary = { columns: {} };
  sumHeader.forEach((h, j) => {
    summary.columns[h] = sumValues[j];
    const key = SUMMARY_KEYS[h];
    if (key) summary[key] = sumValues[j];
  });
  return { header, rows, summary };
}

/**
 * A bill amount in yuan (`0.01`, `-1.00`) as integer fen, exactly (no float arithmetic); undefined when
 * it is not a yuan amount. Bills are the one place v2 speaks yuan.
 */
export function billAmountFen(yuan: string | undefined): number | undefined {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec((yuan ?? '').trim());
  if (!m) return undefined;
  const fen = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] === '-' && fen !== 0 ? -fen : fen;
}
