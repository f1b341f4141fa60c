import { cookies, headers } from 'next/headers';
import { notFound, redirect } from 'next/navigation';
import { checkoutCopy } from '@/app/_components/checkout-copy';
import { PayPanel } from '@/app/_components/pay-panel';
import { detectClient } from '@/lib/checkout/buyer';
import { confirmPendingOrder, payModeNow } from '@/lib/checkout/payments';
import { buyerSession, successRedirectUrl } from '@/lib/checkout/sessions';
import { getConfig } from '@/lib/config';
import { pickLocale } from '@/lib/i18n';
import { formatYuan } from '@/lib/money';
import { getSession } from '@/lib/session';
import { SessionLive } from './session-live';

export const dynamic = 'force-dynamic';

/** One rate-limited orderquery of the session's open attempts; a failure leaves the stored state. */
async function confirmH5Return(id: string): Promise<string | null> {
  try {
    return await confirmPendingOrder(id);
  } catch {
    return null;
  }
}

const PAID = new Set(['paid', 'partially_refunded', 'refunded']);

/**
 * A checkout session's pay page, the url the sessions API hands out: the same buyer experience as a
 * shop link (silent OAuth inside WeChat returning here, JSAPI through the bridge, the server-rendered
 * QR on a desktop, live status), for the session's fixed amount. Entered by a full page load (iOS
 * WeChat checks it against the payment directory, so /pay/ must be registered too; npm run doctor).
 * A paid session with a success_url sends the buyer on to success_url?session_id={id}; an expired or
 * closed one says so and offers nothing to pay. WeChat's H5 cashier returns a phone buyer to
 * /pay/{id}?from=h5, which asks the server rather than assuming payment (SessionLive's h5 mode).
 */
export default async function PayPage(props: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const [{ id }, sp] = await Promise.all([props.params, props.searchParams]);
  const returnedAt = new Date().toISOString();
  let s = await buyerSession(id);
  if (!s) notFound();
  // Back from WeChat's H5 cashier, "check again" without scripts: ask WeChat now (rate-limited per order),
  // only for a session that exists (an unknown id is a 404 without touching WeChat), then read it again.
  const checked = sp.from === 'h5' && sp.check === '1' ? await confirmH5Return(id) : null;
  if (checked !== null) s = (await buyerSession(id)) ?? s;
  const [h, jar, session] = await Promise.all([headers(), cookies(), getSession()]);
  const c = checkoutCopy(pickLocale(h.get('accept-language')));
  const success = successRedirectUrl(s);
  if (PAID.has(s.status) && success) redirect(success);
  const kind = detectClient(h.get('user-agent'), jar.get('sandbox_wechat_browser')?.value);
  const mode = await payModeNow(kind);
  if (s.status === 'open' && mode === 'jsapi' && !session.openid && sp.from !== 'pay') {
    redirect(`/api/wechat/oauth/start?returnTo=${encodeURIComponent(`/pay/${s.id}`)}`);
  }
  const sandbox = getConfig().mode === 'sandbox';
  return (
    <main>
      {/* The real WeChat client injects WeixinJSBridge; the sandbox's stand-in defines it only when absent. */}
      {s.status === 'open' && mode === 'jsapi' && sandbox && <script src="/sandbox/bridge.js" async />}
      <div className="card" data-testid="session" data-session-id={s.id}>
        <h1>{c.payTitle}</h1>
        <p data-testid="session-description">{s.description}</p>
        <p className="price" data-testid="price">¥{formatYuan(s.amount_fen)}</p>
      </div>
      {s.status === 'open' ? (
        <>
          {kind === 'mobile' && mode === 'native' && sp.from !== 'h5' && <p className="card" data-testid="open-in-wechat">{c.openInWechat}</p>}
          {kind === 'wecom' && <p className="card" data-testid="wecom-note">{c.wecom}</p>}
          {sp.from === 'h5' ? (
            <SessionLive id={s.id} status={s.status} copy={c} successRedirect={success} confirming={false} h5={{ returnedAt, checked }} />
          ) : sp.from === 'pay' ? (
            <SessionLive id={s.id} status={s.status} copy={c} successRedirect={success} confirming />
          ) : (
            <PayPanel target={{ kind: 'session', sessionId: s.id, amountFen: s.amount_fen, successRedirect: success }} mode={mode} copy={c} />
          )}
        </>
      ) : (
        <SessionLive id={s.id} status={s.status} copy={c} successRedirect={success} confirming={false} />
      )}
    </main>
  );
}
