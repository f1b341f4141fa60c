'use client';
import { useEffect } from 'react';
import { useOrderStatus } from './use-order-status';

const PAID = new Set(['paid', 'partially_refunded', 'refunded']);

/** A session with a success_url sends the buyer there once the server has the payment (not on the sheet's word). */
export function PaidRedirect(props: { orderId: string; href: string }) {
  const { data } = useOrderStatus(props.orderId);
  const paid = data !== undefined && PAID.has(data.status);
  useEffect(() => {
    if (paid) window.location.assign(props.href);
  }, [paid, props.href]);
  return null;
}
