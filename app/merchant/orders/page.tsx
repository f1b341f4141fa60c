import { listOrders, listRefusedNotifies, ORDER_STATUSES, parseOrderQuery, todayTotals } from '@/lib/checkout/merchant';
import { requestLocale } from '../../_components/locale';
import { merchantCopy } from '../_components/copy';
import { requireMerchantPage } from '../_components/guard';
import { MerchantNav } from '../_components/nav';
import { OrdersList } from './orders-list';

export const dynamic = 'force-dynamic';

type Search = Record<string, string | string[] | undefined>;

export default async function MerchantOrders({ searchParams }: { searchParams: Promise<Search> }) {
  const sp = await searchParams;
  const query = new URLSearchParams();
  for (const k of ['status', 'q', 'from', 'to'] as const) {
    const v = sp[k];
    if (typeof v === 'string' && v.trim()) query.set(k, v.trim());
  }
  await requireMerchantPage(`/merchant/orders${query.size ? `?${query}` : ''}`);
  const locale = await requestLocale();
  const copy = merchantCopy(locale);
  const parsed = parseOrderQuery(query);
  const filter = parsed.ok ? parsed.filter : {};
  const [first, today, refused] = await Promise.all([listOrders(filter, undefined, 50), todayTotals(), listRefusedNotifies(24)]);
  const refusedHits = refused.totals.notify + refused.totals.refund_notify;
  const qs = parsed.ok ? query.toString() : '';

  return (
    <main style={{ maxWidth: 1100 }}>
      <MerchantNav copy={copy} active="orders" />
      <form method="get" action="/merchant/orders" className="card" style={{ display: 'flex', gap: 8, flexWrap: 'wrap', alignItems: 'end' }} data-testid="order-filters">
        <select name="status" defaultValue={filter.status ?? ''} aria-label="status">
          <option value="">{copy.allStatuses}</option>
          {ORDER_STATUSES.map((s) => <option key={s} value={s}>{copy.status[s]}</option>)}
        </select>
        <label className="muted">{copy.from} <input type="date" name="from" defaultValue={filter.from ?? ''} /></label>
        <label className="muted">{copy.to} <input type="date" name="to" defaultValue={filter.to ?? ''} /></label>
        <input type="search" name="q" defaultValue={filter.q ?? ''} placeholder={copy.searchHint} style={{ flex: '1 1 260px' }} data-testid="order-search" />
        <button type="submit" className="btn" style={{ padding: '8px 16px' }} data-testid="order-search-submit">{copy.filter}</button>
        <a href="/merchant/orders" className="btn secondary" style={{ padding: '8px 16px' }}>{copy.reset}</a>
        <a href={`/api/merchant/orders/export${qs ? `?${qs}` : ''}`} className="btn secondary" style={{ padding: '8px 16px' }} data-testid="export-csv" download>{copy.exportCsv}</a>
      </form>
      {!parsed.ok && <p className="error" role="alert">{parsed.message}</p>}
      {refusedHits > 0 && (
        <p className="muted" data-testid="refused-notifies" data-count={refusedHits}>
          {copy.refusedNotifies}: {refusedHits} (<a href="/api/merchant/refused-notifies">JSON</a>)
        </p>
      )}
      <OrdersList query={qs} initial={first} initialToday={today} copy={copy} />
    </main>
  );
}
