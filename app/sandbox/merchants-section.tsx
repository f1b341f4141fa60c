import type { SandboxMerchant } from '@/lib/sandbox/merchants';
import type { Copy } from './copy';
import s from './sandbox.module.css';

/**
 * Keys on the page are masked like the signature debugger's (first and last 4): a dashboard gets
 * screenshotted and shared; scripts read them in full from GET /sandbox/sim/merchants.
 */
const mask = (k: string) => `${k.slice(0, 4)}****${k.slice(-4)}`;

/** The dashboard's merchants: every merchant the sandbox answers for, and a form to add one (POST /sandbox/sim/merchants). */
export function MerchantsSection({ merchants, t }: { merchants: SandboxMerchant[]; t: Copy }) {
  return (
    <>
      <h2 id="merchants">{t.merchants}</h2>
      <p className={s.muted}>{t.merchantsHelp} <a href="/sandbox/sim/merchants">GET /sandbox/sim/merchants</a></p>
      <table className={s.table} data-testid="sandbox-merchants">
        <thead><tr><th>mch_id</th><th>appid</th><th>API key</th><th>sign_type</th><th>AppSecret</th><th>OAuth</th><th>{t.source}</th><th>{t.keys}</th></tr></thead>
        <tbody>
          {merchants.map((m) => (
            <tr key={m.mchId} data-testid="sandbox-merchant" data-mch-id={m.mchId} data-source={m.source}>
              <td className={s.mono}>{m.mchId}<div className={s.muted}>{m.name}</div></td>
              <td className={s.mono}>{m.appId}</td>
              <td className={s.mono}>{mask(m.apiKey)}</td>
              <td>{m.signType}</td>
              <td className={s.mono}>{mask(m.appSecret)}</td>
              <td className={s.mono}>{m.oauthDomain}</td>
              <td>{m.source}</td>
              <td><a href={`/sandbox/sim/keys?mch_id=${m.mchId}`}>JSON</a></td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="post" action="/sandbox/sim/merchants" className={s.row} style={{ marginTop: 8 }}>
        <input className={s.input} name="mch_id" placeholder={`mch_id (${t.blankGenerated})`} data-testid="sandbox-new-merchant-mch-id" />
        <input className={s.input} name="appid" placeholder="appid" data-testid="sandbox-new-merchant-appid" />
        <input className={s.input} name="api_key" placeholder="API key (32)" size={34} data-testid="sandbox-new-merchant-api-key" />
        <select className={s.input} name="sign_type" aria-label="sign_type" defaultValue="MD5" data-testid="sandbox-new-merchant-sign-type"><option>MD5</option><option>HMAC-SHA256</option></select>
        <input className={s.input} name="oauth_domain" placeholder="oauth_domain (localhost)" data-testid="sandbox-new-merchant-oauth-domain" />
        <button className={s.btn} data-testid="sandbox-new-merchant">{t.newMerchant}</button>
      </form>
    </>
  );
}
