import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getMerchantOrder } from '@/lib/checkout/merchant';
import { formatChinaTime } from '@/lib/china-time';
import { formatYuan } from '@/lib/money';
import { requestLocale } from '../../../_components/locale';
import { merchantCopy } from '../../_components/copy';
import { requireMerchantPage } from '../../_components/guard';
import { MerchantNav } from '../../_components/nav';
import { AutoRefresh, OrderActions } from './order-actions';
import { OrderWebhookDeliveries } from './webhook-deliveries';

export const dynamic = 'force-dynamic';

export default async function MerchantOrder({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await requireMerchantPage(`/merchant/orders/${encodeURIComponent(id)}`);
  const locale = await requestLocale();
  const copy = merchantCopy(locale);
  const d = await getMerchantOrder(id);
  if (!d) notFound();
  const { order } = d;
  const inFlight = order.status === 'pending' || d.refunds.some((r) => r.status === 'processing');
  const duplicate = order.duplicatePaid || order.paidAttempts > 1;
  // CHANGE (退款异常): deducted from the merchant, not delivered to the buyer; only the merchant portal can settle it.
  const abnormal = d.refunds.filter((r) => r.status === 'abnormal');
  const abnormalFen = abnormal.reduce((n, r) => n + r.amountFen, 0);

  return (
    <main style={{ maxWidth: 1100 }}>
      <MerchantNav copy={copy} active="orders" />
      <AutoRefresh active={inFlight} />
      <p><Link href="/merchant/orders" prefetch={false}>← {copy.back}</Link></p>
      <section className="card">
        <h1 style={{ margin: '0 0 8px', fontSize: 20 }}>
          {order.name}{order.quantity > 1 ? ` ×${order.quantity}` : ''}{' '}
          <span className={`badge ${order.status}`} data-testid="order-status" data-status={order.status}>{copy.status[order.status]}</span>
          {duplicate && <> <span className="badge warn" data-testid="duplicate-badge">{copy.duplicate}</span></>}
        </h1>
        {duplicate && <p className="error" data-testid="duplicate-note" style={{ background: '#fde8e8', padding: 8, borderRadius: 6 }}>⚠ {copy.duplicateNote}</p>}
        {abnormal.length > 0 && (
          <div className="error" role="alert" data-testid="refund-abnormal-note" style={{ background: '#fde8e8', padding: 8, borderRadius: 6, margin: '8px 0' }}>
            <strong>⚠ {copy.abnormalTitle}</strong>{' '}
            {abnormal.map((r) => <code key={r.outRefundNo} style={{ marginRight: 6 }}>{r.outRefundNo} ¥{formatYuan(r.amountFen)}</code>)}
            <p style={{ margin: '6px 0 0' }}>{copy.abnormalNote}</p>
          </div>
        )}
        <table>
          <tbody>
            <tr><th>{copy.orderId}</th><td><code data-testid="order-id">{order.id}</code></td></tr>
            <tr><th>{copy.amount}</th><td><span className="price">¥{formatYuan(order.amountFen)}</span>{' · '}{copy.refunded} ¥{formatYuan(order.refundedFen)}{abnormalFen > 0 && <>{' · '}<span className="error" data-testid="abnormal-amount">{copy.abnormal} ¥{formatYuan(abnormalFen)}</span></>}{' · '}{copy.refundable} ¥{formatYuan(order.refundableFen)}{order.couponFen !== null && order.couponFen > 0 && order.buyerPaidFen !== null && (
              <><br /><span data-testid="order-coupon" data-buyer-paid-fen={order.buyerPaidFen} data-coupon-fen={order.couponFen}>{copy.buyerPaid} ¥{formatYuan(order.buyerPaidFen)}, {copy.coupon} ¥{formatYuan(order.couponFen)}</span></>
            )}</td></tr>
            <tr><th>{copy.created}</th><td>{formatChinaTime(order.createdAt)}</td></tr>
            <tr><th>{copy.paidAt}</th><td>{formatChinaTime(order.paidAt)}</td></tr>
            <tr><th>{copy.transactionId}</th><td><code>{order.transactionId ?? ''}</code></td></tr>
            <tr><th>{copy.buyer}</th><td><code>{order.buyerOpenid ?? ''}</code></td></tr>
          </tbody>
        </table>
      </section>

      <OrderActions
        orderId={order.id}
        canClose={order.status === 'pending'}
        refundableYuan={order.refundableFen > 0 ? formatYuan(order.refundableFen) : null}
        refundBlocker={d.refundBlocker}
        labels={copy}
      />

      <section className="card" style={{ overflowX: 'auto' }}>
        <h2 style={{ fontSize: 17, marginTop: 0 }}>{copy.attempts}</h2>
        <table data-testid="attempts">
          <thead><tr><th>out_trade_no</th><th>trade_type</th><th>{copy.amount}</th><th>{copy.statusCol}</th><th>transaction_id</th><th>{copy.created}</th><th>expires</th></tr></thead>
          <tbody>
            {d.attempts.map((a) => (
              <tr key={a.outTradeNo} data-testid="attempt-row" data-status={a.status} style={duplicate && a.status === 'paid' && a.transactionId !== order.transactionId ? { background: '#fde8e8' } : undefined}>
                <td><code>{a.outTradeNo}</code></td><td>{a.tradeType}</td><td>¥{formatYuan(a.amountFen)}</td>
                <td><span className={`badge ${a.status === 'paid' ? 'paid' : a.status === 'open' ? 'pending' : 'closed'}`}>{a.status}</span></td>
                <td><code>{a.transactionId ?? ''}</code></td><td>{formatChinaTime(a.createdAt)}</td><td>{formatChinaTime(a.expiresAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section className="card" style={{ overflowX: 'auto' }}>
        <h2 style={{ fontSize: 17, marginTop: 0 }}>{copy.refunds}</h2>
        {d.refunds.length === 0 ? <p className="muted">—</p> : (
          <table data-testid="refunds">
            <thead><tr><th>out_refund_no</th><th>{copy.amount}</th><th>{copy.statusCol}</th><th>{copy.refundReason}</th><th>origin</th><th>refund_id</th><th>{copy.created}</th></tr></thead>
            <tbody>
              {d.refunds.map((r) => (
                <tr key={r.outRefundNo} data-testid="refund-row" data-status={r.status}>
                  <td><code>{r.outRefundNo}</code></td><td>¥{formatYuan(r.amountFen)}</td>
                  <td><span className={`badge ${r.status === 'succeeded' ? 'paid' : r.status === 'processing' ? 'pending' : 'warn'}`}>{r.status}{r.status === 'abnormal' ? ` · ${copy.abnormal}` : ''}</span>{r.detail && <div className="muted">{r.detail}</div>}</td>
                  <td>{r.reason}</td><td>{r.origin === 'duplicate' ? <span className="badge warn">{copy.duplicate}</span> : r.origin}</td>
                  <td><code>{r.refundId ?? ''}</code></td><td>{formatChinaTime(r.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <OrderWebhookDeliveries orderId={order.id} locale={locale} />

      <section className="card" style={{ overflowX: 'auto' }}>
        <h2 style={{ fontSize: 17, marginTop: 0 }}>{copy.timeline}</h2>
        {d.eventsOmitted > 0 && <p className="muted" data-testid="events-omitted" data-count={d.eventsOmitted}>{d.eventsOmitted} {copy.eventsOmitted}</p>}
        <table data-testid="timeline">
          <thead><tr><th>{copy.at}</th><th>{copy.source}</th><th>{copy.outcome}</th><th>{copy.detail}</th></tr></thead>
          <tbody>
            {d.events.map((e) => (
              <tr key={e.id} data-testid="event-row" data-source={e.source} data-outcome={e.outcome}>
                <td style={{ whiteSpace: 'nowrap' }}>{formatChinaTime(e.at)}</td>
                <td>{e.source}</td>
                <td><span className={`badge ${e.outcome === 'applied' ? 'paid' : e.outcome === 'duplicate' ? 'closed' : 'warn'}`}>{e.outcome}</span></td>
                <td>
                  {e.detail}
                  {e.outTradeNo && <div className="muted"><code>{e.outTradeNo}</code></div>}
                  {e.raw && (
                    <details>
                      <summary className="muted">{copy.raw}</summary>
                      <pre style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all', fontSize: 12, background: '#f7f7f7', padding: 8 }}>{e.raw}</pre>
                    </details>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}
