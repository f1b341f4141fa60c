'use client';
import type { CheckoutCopy } from '@/app/_components/checkout-copy';
import { useOrderStatus } from '@/app/_components/use-order-status';
import { formatYuan } from '@/lib/money';
import type { OrderStatusJson } from '@/lib/checkout/orders';
import { formatChinaTime } from '@/lib/china-time';

/**
 * The order with its status kept live by polling. A buyer arriving from the payment sheet's `:ok`
 * sees "confirming with WeChat" until the server has the payment (notify or orderquery): the sheet's
 * word alone is not proof of payment.
 */
export function OrderLive(props: { initial: OrderStatusJson; copy: CheckoutCopy; fromPay: boolean }) {
  const { copy: c } = props;
  const { data } = useOrderStatus(props.initial.id, props.initial);
  const o = data ?? props.initial;
  const confirming = o.status === 'pending' && (o.confirming || props.fromPay);
  return (
    <div className="card">
      <p>
        {c.statusLabel}{' '}
        <span data-testid="order-status" data-status={o.status} className={`badge ${o.status}`}>
          {c.status[o.status] ?? o.status}
        </span>
      </p>
      {confirming && <p data-testid="confirming" className="muted">{c.confirming}</p>}
      {o.status === 'paid' && <p data-testid="paid-thanks">{c.paidThanks}</p>}
      <table>
        <tbody>
          <tr><th>{c.orderNo}</th><td data-testid="order-id">{o.id}</td></tr>
          <tr><th>{c.product}</th><td>{o.name} × {o.quantity}</td></tr>
          <tr><th>{c.amount}</th><td className="price" data-testid="order-amount">¥{formatYuan(o.amountFen)}</td></tr>
          {o.paidAt && <tr><th>{c.paidAt}</th><td>{formatChinaTime(o.paidAt)}</td></tr>}
        </tbody>
      </table>
    </div>
  );
}
