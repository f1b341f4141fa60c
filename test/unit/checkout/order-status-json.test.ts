import { describe, expect, it } from 'vitest';
import type { Order, PaymentAttempt } from '@/lib/db/schema';
import { orderStatusJson } from '@/lib/checkout/orders';

const NOW = Date.parse('2026-11-22T12:00:00.000Z');
const order = (o: Partial<Order> = {}): Order => ({
  id: 'o_abcdefghijkl', sku: 'green-tea', name: '明前龙井 50g', quantity: 2, amount_fen: 13600, status: 'pending',
  buyer_openid: null, buyer_id: 'b_x', transaction_id: null, refunded_fen: 0, duplicate_paid: 0,
  created_at: '2026-11-22T11:59:00.000Z', paid_at: null, updated_at: '2026-11-22T11:59:00.000Z', last_query_at: null,
  merchant_reference: null, success_url: null, metadata: null, expires_at: null, origin: 'shop', closed_reason: null, ...o,
});
const attempt = (a: Partial<PaymentAttempt> = {}): PaymentAttempt => ({
  out_trade_no: 'P1', order_id: 'o_abcdefghijkl', trade_type: 'NATIVE', amount_fen: 13600, openid: null, sign_type: 'MD5',
  prepay_id: 'wx1', code_url: 'weixin://wxpay/bizpayurl?pr=x', expires_at: '2026-11-22T12:14:00.000Z', status: 'open',
  transaction_id: null, cash_fen: null, mweb_url: null, mweb_url_at: null, client_ip: null, created_at: '2026-11-22T11:59:00.000Z', updated_at: '2026-11-22T11:59:00.000Z', ...a,
});

describe('orderStatusJson', () => {
  it('carries the contract names and the live-page fields', () => {
    expect(orderStatusJson(order(), [attempt()], NOW)).toEqual({
      id: 'o_abcdefghijkl', status: 'pending', amountFen: 13600, sku: 'green-tea', name: '明前龙井 50g', quantity: 2,
      createdAt: '2026-11-22T11:59:00.000Z', paidAt: null, transactionId: null, refundedFen: 0, tradeType: 'NATIVE',
      expiresAt: '2026-11-22T12:14:00.000Z', confirming: true, checkedAt: null, final: false,
    });
  });
  it('is not confirming once the open attempt expired, nor with only closed or claimed attempts', () => {
    expect(orderStatusJson(order(), [attempt({ expires_at: '2026-11-22T11:59:59.000Z' })], NOW)).toMatchObject({ confirming: false, expiresAt: '2026-11-22T11:59:59.000Z' });
    expect(orderStatusJson(order(), [attempt({ status: 'closed' }), attempt({ status: 'failed', out_trade_no: 'P2' })], NOW)).toMatchObject({ confirming: false, expiresAt: null });
    expect(orderStatusJson(order(), [], NOW)).toMatchObject({ confirming: false, expiresAt: null, tradeType: null });
  });
  it('final states stop the polling', () => {
    for (const status of ['paid', 'closed', 'refunded', 'partially_refunded'] as const) {
      expect(orderStatusJson(order({ status }), [attempt({ status: 'paid' })], NOW)).toMatchObject({ final: true, confirming: false });
    }
  });
});
