/** Who learned that money moved: WeChat's notify, an orderquery, or a merchant's sync. */
export type PaymentSource = 'notify' | 'query' | 'merchant';

/** A payment result from any source, checked against the attempt before anything changes. */
export interface PaymentInput {
  source: PaymentSource;
  outTradeNo: string;
  transactionId: string;
  /** Fen as WeChat reported it: must equal the attempt's amount_fen. */
  totalFee: number;
  /**
   * What the buyer paid (cash_fee; v3 amount.payer_total), when WeChat said: less than totalFee when a
   * coupon paid the rest. Kept on the paid attempt for the merchant; NaN (unreadable) is refused.
   */
  cashFee?: number;
  openid?: string | null;
  /** ISO UTC; default now. */
  paidAt?: string;
  /** fee_type and cash_fee_type as WeChat sent them: absent (meaning CNY) or CNY, anything else is refused. */
  feeType?: string;
  cashFeeType?: string;
  raw?: string;
}
