import { formatYuan } from '@/lib/money';
import type { OrderView } from '@/lib/sandbox/dashboard';
import type { Copy } from './copy';
import s from './sandbox.module.css';

function time(iso: string | null): string {
  return iso ? iso.replace('T', ' ').slice(0, 19) + 'Z' : '';
}

/** Orders with their notify deliveries: attempt log, next retry, Resend. */
export function OrdersTable({ orders, t }: { orders: OrderView[]; t: Copy }) {
  return (
    <table className={s.table} data-testid="sandbox-orders">
      <thead>
        <tr><th>{t.outTradeNo}</th><th>{t.type}</th><th>{t.amount}</th><th>{t.state}</th><th>{t.payment}</th><th id="deliveries">{t.deliveries}</th></tr>
      </thead>
      <tbody>
        {orders.map((o) => (
          <tr key={`${o.mch_id}/${o.out_trade_no}`} data-testid="sandbox-order" data-out-trade-no={o.out_trade_no} data-mch-id={o.mch_id} data-state={o.state}>
            <td><div className={s.mono}>{o.out_trade_no}</div><div className={s.muted}>mch_id {o.mch_id}</div><div className={s.muted}>{time(o.created_at)}</div><div className={s.muted}>{o.body}</div></td>
            <td>{o.trade_type}<div className={s.muted}>{o.sign_type}</div></td>
            <td>¥{formatYuan(o.total_fee)}{o.refunded_fee > 0 && <div className={s.muted}>-¥{formatYuan(o.refunded_fee)}</div>}</td>
            <td><span className={`${s.badge} ${s[o.state] ?? ''}`}>{o.state}</span>{o.transaction_id && <div className={s.mono}>{o.transaction_id}</div>}</td>
            <td>
              <div className={s.mono}>{o.prepay_id}</div>
              {o.code_url && (
                <div className={s.mono}>
                  {o.code_url} {(o.state === 'NOTPAY' || o.state === 'USERPAYING') && <a href={`/sandbox/scan?code_url=${encodeURIComponent(o.code_url)}`}>{t.scan}</a>}
                </div>
              )}
              {o.openid && <div className={`${s.mono} ${s.muted}`}>{o.openid}</div>}
            </td>
            <td>
              {o.deliveries.length === 0 && <span className={s.muted}>{t.none}</span>}
              {o.deliveries.map((d) => (
                <div key={d.id} data-testid="sandbox-delivery" data-status={d.status} style={{ marginBottom: 8 }}>
                  <div className={s.row}>
                    <span className={`${s.badge} ${s[d.status] ?? ''}`}>{d.kind === 'refund' ? 'refund ' : ''}{d.status}</span>
                    <span className={s.muted}>{d.attempts} {t.attempts}{d.duplicate ? ' · DUPLICATE' : ''}</span>
                    {d.next_at && <span className={s.muted}>{t.nextRetry} {time(d.next_at)}</span>}
                    <form method="post" action="/sandbox/sim/deliveries/resend">
                      <input type="hidden" name="id" value={d.id} />
                      <button className={s.btn} data-testid="sandbox-resend">{t.resend}</button>
                    </form>
                  </div>
                  {d.log.length > 0 && (
                    <ol className={`${s.log} ${s.muted}`}>
                      {d.log.map((a) => (
                        <li key={a.id}>
                          {time(a.at)} · #{a.attempt_no} · {a.http_status ?? a.error} · {a.accepted ? '✓' : '✗'} <span className={s.mono}>{(a.reply ?? '').slice(0, 80)}</span>
                        </li>
                      ))}
                    </ol>
                  )}
                </div>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
