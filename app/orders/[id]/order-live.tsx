'use client';
import type { CheckoutCopy } from '@/app/_components/checkout-copy';
import { useOrderStatus } from '@/app/_components/use-order-status';
import { formatYuan } from '@/lib/money';
import type { OrderStatusJson } from '@/lib/checkout/orders';
import { formatChinaTime } from '@/lib/china-time';
import dynamic from 'next/dynamic';
import { payAgainForm } from '@/app/shop/[sku]/actions';

/* Only a buyer back from WeChat's H5 cashier needs these controls: their own chunk, out of the page weight budget's way. */
const H5Return = dynamic(() => import('@/app/_components/h5-return').then((m) => m.H5Return));

/**
 * The order with its status kept live by polling. A buyer arriving from the payment sheet's `:ok`
 * sees "confirming with WeChat" until the server has the payment (notify or orderquery): the sheet's
 * word alone is not proof of payment. Back from WeChat's H5 cashier (`h5`, /orders/{id}?from=h5), the
 * same: it checks with the server and offers to pay again or check again (H5Return).
 */
export function OrderLive(props: { initial: OrderStatusJson; copy: CheckoutCopy; fromPay: boolean; h5?: { returnedAt: string } }) {
  const { copy: c, h5 } = props;
  const { data, mutate } = useOrderStatus(props.initial.id, props.initial);
  const o = data ?? props.initial;
  const confirming = !h5 && o.status === 'pending' && (o.confirming || props.fromPay);
  return (
    <div className="card">
      <p>
        {c.statusLabel}{' '}
        <span data-testid="order-status" data-status={o.status} className={`badge ${o.status}`}>
          {c.status[o.status] ?? o.status}
        </span>
      </p>
      {confirming && <p data-testid="confirming" className="muted">{c.confirming}</p>}
      {h5 && o.status === 'pending' && (
        <H5Return
          checked={o.checkedAt !== null && o.checkedAt >= h5.returnedAt}
          copy={c}
          checkHref={`/orders/${encodeURIComponent(o.id)}?from=h5&check=1`}
          onCheck={() => void mutate()}
          payAgain={o.sku ? { action: payAgainForm, fields: { sku: o.sku, quantity: String(o.quantity), orderId: o.id } } : null}
        />
      )}
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
