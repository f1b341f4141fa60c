'use client';

import Link from 'next/link';
import useSWR from 'swr';
import useSWRInfinite from 'swr/infinite';
import { formatYuan } from '@/lib/money';
import type { MerchantOrderRow, TodayTotals } from '@/lib/checkout/merchant';
import { formatChinaTime } from '@/lib/china-time';
import type { Copy } from '../_components/copy';

type Page = { orders: MerchantOrderRow[]; nextCursor: string | null };

/** How often the list and today's totals refresh themselves. */
const REFRESH_MS = 5000;

async function fetchJson<T>(url: string): Promise<T> {
  const r = await fetch(url, { cache: 'no-store' });
  // A lapsed session: back to the login instead of an empty list.
  if (r.status === 401) window.location.assign(`/merchant/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

export function OrdersList({ query, initial, initialToday, copy }: { query: string; initial: Page; initialToday: TodayTotals; copy: Copy }) {
  const key = (i: number, prev: Page | null) => {
    if (prev && !prev.nextCursor) return null;
    const p = new URLSearchParams(query);
    if (i > 0 && prev?.nextCursor) p.set('cursor', prev.nextCursor);
    return `/api/merchant/orders?${p}`;
  };
  const { data, size, setSize, isValidating, error } = useSWRInfinite<Page>(key, fetchJson, {
    fallbackData: [initial],
    refreshInterval: REFRESH_MS,
    revalidateFirstPage: true,
    revalidateOnMount: false,
  });
  const { data: summary } = useSWR<{ today: TodayTotals }>('/api/merchant/summary', fetchJson, {
    fallbackData: { today: initialToday },
    refreshInterval: REFRESH_MS,
    revalidateOnMount: false,
  });
  const today = summary?.today ?? initialToday;
  const pages = data ?? [initial];
  const orders = pages.flatMap((p) => p.orders);
  const more = Boolean(pages[pages.length - 1]?.nextCursor);

  return (
    <>
      <section className="card" data-testid="today-totals">
        <div className="muted">{copy.today} {today.date}</div>
        <div style={{ display: 'flex', gap: 24, flexWrap: 'wrap', marginTop: 6, alignItems: 'baseline' }}>
          <div>{copy.paidCount}: <strong data-testid="today-count">{today.paidCount}</strong></div>
          <div>{copy.gross}: <strong className="price" data-testid="today-gross">¥{formatYuan(today.grossFen)}</strong></div>
          <div className="muted">{copy.refundedToday} ¥{formatYuan(today.refundedFen)} · {copy.net} ¥{formatYuan(today.grossFen - today.refundedFen)}</div>
        </div>
      </section>
      <section className="card" style={{ overflowX: 'auto' }}>
        {error && <p className="error" role="alert">{String((error as Error).message)}</p>}
        {orders.length === 0 ? (
          <p className="muted" data-testid="orders-empty">{copy.none}</p>
        ) : (
          <table data-testid="orders-table">
            <thead>
              <tr>
                <th>{copy.orderId}</th><th>{copy.product}</th><th>{copy.amount}</th><th>{copy.statusCol}</th>
                <th>{copy.created}</th><th>{copy.paidAt}</th><th>{copy.buyer}</th><th>{copy.transactionId}</th>
              </tr>
            </thead>
            <tbody>
              {orders.map((o) => (
                <tr key={o.id} data-testid="order-row" data-order-id={o.id} data-status={o.status}>
                  <td><Link href={`/merchant/orders/${encodeURIComponent(o.id)}`} prefetch={false}><code>{o.id}</code></Link></td>
                  <td style={{ minWidth: 140 }}>{o.name}{o.quantity > 1 ? ` ×${o.quantity}` : ''}</td>
                  <td style={{ whiteSpace: 'nowrap' }}>¥{formatYuan(o.amountFen)}{o.refundedFen > 0 && <div className="muted">−¥{formatYuan(o.refundedFen)}</div>}</td>
                  <td style={{ whiteSpace: 'nowrap' }}>
                    <span className={`badge ${o.status}`}>{copy.status[o.status]}</span>
                    {o.duplicatePaid && <> <span className="badge warn" data-testid="duplicate-badge">{copy.duplicate}</span></>}
                  </td>
                  <td style={{ whiteSpace: 'nowrap' }}>{formatChinaTime(o.createdAt)}</td>
                  <td style={{ whiteSpace: 'nowrap' }}>{formatChinaTime(o.paidAt)}</td>
                  <td><code style={{ fontSize: 12 }}>{o.buyerOpenid ?? ''}</code></td>
                  <td><code style={{ fontSize: 12 }}>{o.transactionId ?? ''}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {more && (
          <button type="button" className="btn secondary" style={{ marginTop: 12 }} disabled={isValidating && size > pages.length} onClick={() => setSize(size + 1)} data-testid="load-more">
            {isValidating && size > pages.length ? copy.loading : copy.loadMore}
          </button>
        )}
      </section>
    </>
  );
}
