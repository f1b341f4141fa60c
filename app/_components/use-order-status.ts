'use client';
import { useCallback, useRef } from 'react';
import useSWR, { mutate } from 'swr';
import type { OrderStatusJson } from '@/lib/checkout/orders';

const FIRST_MS = 1000;
const MAX_MS = 5000;

async function fetchStatus(url: string): Promise<OrderStatusJson> {
  const r = await fetch(url, { cache: 'no-store', headers: { accept: 'application/json' } });
  if (!r.ok) throw Object.assign(new Error(`status ${r.status}`), { status: r.status });
  return (await r.json()) as OrderStatusJson;
}

/** The SWR key of an order's status (pages clear it when they start a fresh attempt). */
export function orderStatusKey(orderId: string): string {
  return `/api/orders/${encodeURIComponent(orderId)}`;
}

/** Drops an order's cached status without refetching (a fresh attempt must not flash the old one's expiry). */
export function forgetOrderStatus(orderId: string): Promise<unknown> {
  return mutate(orderStatusKey(orderId), undefined, { revalidate: false });
}

/**
 * Polls GET /api/orders/[id]: every second at first, backing off by half each time nothing changed
 * (up to 5 s), back to fast when the status moves, and not at all once the order reached a final state.
 */
export function useOrderStatus(orderId: string | undefined, fallback?: OrderStatusJson) {
  const delay = useRef(FIRST_MS);
  const last = useRef<string | undefined>(undefined);
  // Stable identity: SWR restarts its timer whenever this function changes, and the pages re-render
  // every second (countdown), which would otherwise keep postponing the next poll forever.
  const refreshInterval = useCallback((data: OrderStatusJson | undefined) => {
    if (data?.final) return 0;
    const key = data ? `${data.status}|${data.expiresAt}` : undefined;
    if (key !== last.current) {
      last.current = key;
      delay.current = FIRST_MS;
    } else {
      delay.current = Math.min(MAX_MS, Math.round(delay.current * 1.5));
    }
    return delay.current;
  }, []);
  return useSWR(orderId ? orderStatusKey(orderId) : null, fetchStatus, {
    fallbackData: fallback,
    revalidateOnFocus: true,
    dedupingInterval: 500,
    errorRetryInterval: 3000,
    refreshInterval,
  });
}
