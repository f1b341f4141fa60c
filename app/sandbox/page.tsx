import { cookies } from 'next/headers';
import { notFound } from 'next/navigation';
import { requestLocale } from '@/app/_components/locale';
import { dashboardData } from '@/lib/sandbox/dashboard';
import { sandboxEnabled, USER_COOKIE, WECHAT_BROWSER_COOKIE } from '@/lib/sandbox/guard';
import { listWebhookHits, WEBHOOK_SECRET_COOKIE, WEBHOOK_SECRET_RE } from '@/lib/sandbox/webhook-receiver';
import { getConfig } from '@/lib/config';
import { copyFor } from './copy';
import { MerchantsSection } from './merchants-section';
import { OrdersTable } from './orders-table';
import { RequestsTable } from './requests-table';
import { WebhooksTable } from './webhooks-table';
import s from './sandbox.module.css';

export const dynamic = 'force-dynamic';
export const metadata = { title: '微信沙箱 · WeChat sandbox' };

/** The sandbox dashboard: orders with their notify deliveries, refused requests, the webhook receiver, simulated users, faults, WeChat-browser mode. */
export default async function SandboxDashboard() {
  if (!sandboxEnabled()) notFound();
  const t = copyFor(await requestLocale());
  const jar = await cookies();
  const browserMode = jar.get(WECHAT_BROWSER_COOKIE)?.value === '1';
  const data = await dashboardData();
  const pasted = jar.get(WEBHOOK_SECRET_COOKIE)?.value;
  const secret = pasted && WEBHOOK_SECRET_RE.test(pasted) ? pasted : undefined;
  const hits = await listWebhookHits(50, secret);
  const receiverUrl = `${getConfig().publicBaseUrl}/sandbox/webhooks/receive`;
  const currentId = data.users.some((u) => u.id === jar.get(USER_COOKIE)?.value) ? jar.get(USER_COOKIE)?.value : 'u_default';
  return (
    <main className={s.page} data-testid="sandbox-dashboard">
      <h1>{t.title}</h1>
      <p className={s.muted}>
        {t.subtitle} · {t.merchant} appid <span className={s.mono}>{data.appId}</span> · mch_id <span className={s.mono}>{data.mchId}</span>
        {data.timeScale !== 1 ? ` · SANDBOX_TIME_SCALE=${data.timeScale}` : ''}
      </p>

      <MerchantsSection merchants={data.merchants} t={t} />

      <h2>{t.browserMode}</h2>
      <form method="post" action="/sandbox/sim/browser-mode" className={s.row}>
        <span data-testid="sandbox-browser-mode" data-on={browserMode ? '1' : '0'}>{browserMode ? t.browserModeOn : t.browserModeOff}</span>
        <input type="hidden" name="on" value={browserMode ? '0' : '1'} />
        <button className={`${s.btn} ${browserMode ? '' : s.primary}`} data-testid="sandbox-browser-toggle">{browserMode ? t.turnOff : t.turnOn}</button>
      </form>

      <h2 id="pay-directories">{t.payDirs}</h2>
      <p className={s.muted}>{t.payDirsHelp}</p>
      <ul data-testid="sandbox-pay-directories">
        {getConfig().sandboxPayDirectories.map((d) => <li key={d} className={s.mono} data-testid="sandbox-pay-directory">{d}</li>)}
      </ul>

      <h2 id="h5">{t.h5}</h2>
      <p className={s.muted}>{t.h5Help} <a href="/sandbox/sim/h5">GET /sandbox/sim/h5</a></p>
      <table className={s.table} data-testid="sandbox-h5">
        <thead><tr><th>mch_id</th><th>{t.h5Domains}</th><th>{t.h5Permission}</th><th /></tr></thead>
        <tbody>
          {data.h5.map((m) => (
            <tr key={m.mchId} data-testid="sandbox-h5-merchant" data-mch-id={m.mchId} data-h5-pay={m.pay ? '1' : '0'}>
              <td className={s.mono}>{m.mchId}<div className={s.muted}>{m.name}</div></td>
              <td className={s.mono} data-testid="sandbox-h5-domains">{m.domains.join(' ')}</td>
              <td>{m.pay ? t.h5Granted : t.h5Refused}</td>
              <td>
                <form method="post" action="/sandbox/sim/h5">
                  <input type="hidden" name="mch_id" value={m.mchId} />
                  <input type="hidden" name="h5_pay" value={m.pay ? 'false' : 'true'} />
                  <button className={s.btn} data-testid="sandbox-h5-toggle">{m.pay ? t.h5Revoke : t.h5Grant}</button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2 id="users">{t.users}</h2>
      <table className={s.table} data-testid="sandbox-users">
        <thead><tr><th>{t.name}</th><th>openid ({data.appId})</th><th>{t.subscribe}</th><th /></tr></thead>
        <tbody>
          {data.users.map((u) => (
            <tr key={u.id} data-testid="sandbox-user" data-current={u.id === currentId ? '1' : '0'}>
              <td>{u.name} {u.id === currentId && <span className={`${s.badge} ${s.SUCCESS}`}>{t.current}</span>}{u.snapshot === 1 && <> <span className={`${s.badge} ${s.PAYERROR}`} data-testid="sandbox-user-snapshot">{t.snapshotUser}</span></>}</td>
              <td className={s.mono}>{u.openid}</td>
              <td>{u.is_subscribe === 'Y' ? t.yes : t.no}</td>
              <td>
                {u.id !== currentId && (
                  <form method="post" action="/sandbox/sim/users">
                    <input type="hidden" name="action" value="switch" /><input type="hidden" name="id" value={u.id} />
                    <button className={s.btn}>{t.switchTo}</button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="post" action="/sandbox/sim/users" className={s.row} style={{ marginTop: 8 }}>
        <input type="hidden" name="action" value="create" />
        <input className={s.input} name="name" placeholder={t.name} maxLength={40} data-testid="sandbox-new-user-name" />
        <label className={s.muted}><input type="checkbox" name="subscribe" value="Y" /> {t.subscribe}</label>
        <label className={s.muted} title={t.snapshotHint}><input type="checkbox" name="snapshot" value="1" data-testid="sandbox-new-user-snapshot" /> {t.snapshotUser}</label>
        <button className={s.btn} data-testid="sandbox-new-user">{t.create}</button>
      </form>

      <h2>{t.faults}</h2>
      {data.faults.length === 0 ? <p className={s.muted}>{t.noFaults}</p> : (
        <div className={s.row}>
          {data.faults.map((f) => (
            <span key={f.id} className={`${s.badge} ${s.PAYERROR}`}>{f.fault} · {f.api}{f.delayMs ? ` · ${f.delayMs}ms` : ''} · {t.remaining} {f.remaining}</span>
          ))}
          <form method="post" action="/sandbox/sim/faults"><input type="hidden" name="action" value="clear" /><button className={s.btn}>{t.clear}</button></form>
        </div>
      )}
      <p className={s.muted}>POST /sandbox/sim/faults {'{"api":"orderquery","fault":"SYSTEMERROR","count":2}'}</p>

      <h2 id="orders">{t.orders}</h2>
      {data.orders.length === 0 ? <p className={s.muted}>{t.noOrders}</p> : <OrdersTable orders={data.orders} t={t} />}

      <h2 id="webhooks">{t.webhooks}</h2>
      <p className={s.muted}>{t.webhooksNote}</p>
      <p><code className={s.mono} data-testid="sandbox-webhook-url">{receiverUrl}</code></p>
      <form method="post" action="/sandbox/sim/webhook-secret" className={s.row}>
        <label className={s.muted}>{t.secretLabel}{' '}
          <input className={s.input} name="secret" defaultValue={secret ?? ''} size={50} autoComplete="off" data-testid="sandbox-webhook-secret" />
        </label>
        <button className={s.btn} data-testid="sandbox-webhook-verify">{t.verify}</button>
      </form>
      {hits.length === 0 ? <p className={s.muted}>{t.noHits}</p> : (
        <>
          <WebhooksTable hits={hits} t={t} />
          <form method="post" action="/sandbox/sim/webhooks" style={{ marginTop: 8 }}><button className={s.btn}>{t.clear}</button></form>
        </>
      )}

      <h2 id="requests">{t.requests}</h2>
      <p className={s.muted}>{t.requestsNote} GET /sandbox/sim/requests</p>
      {data.requests.length === 0 ? <p className={s.muted}>{t.noRequests}</p> : <RequestsTable requests={data.requests} t={t} />}
    </main>
  );
}
