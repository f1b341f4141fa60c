'use client';
import type { CheckoutCopy } from './checkout-copy';
import { useOrderStatus } from './use-order-status';

/** The order's live status as `data-testid="order-status"` with `data-status` (docs/http-api.md). */
export function OrderStatusBadge(props: { orderId: string; copy: CheckoutCopy }) {
  const { data } = useOrderStatus(props.orderId);
  const status = data?.status ?? 'pending';
  return (
    <span data-testid="order-status" data-status={status} className={`badge ${status}`}>
      {props.copy.status[status] ?? status}
    </span>
  );
}
