'use client';
import dynamic from 'next/dynamic';
import { type FormEvent, useActionState, useEffect, useRef, useState } from 'react';
import { startSessionPayment, submitSessionPayForm } from '@/app/pay/[id]/actions';
import { startPayment, submitPayForm } from '@/app/shop/[sku]/actions';
import { formatYuan } from '@/lib/money';
import type { PayMode } from '@/lib/checkout/buyer';
import type { StartPaymentResult } from '@/lib/checkout/payments';
import { bridgeReadyNow, requestPayment, whenBridgeReady } from './bridge';
import type { CheckoutCopy } from './checkout-copy';
import { claimEarlyTap, EARLY_TAP_SCRIPT, markHydrated } from './early-tap';

/*
 * What only matters once a payment has started (the QR, live status, polling with swr) is loaded when it
 * is first shown, and fetched in idle time after hydration: the bundle a buyer waits for before the page
 * hydrates holds only the form. Still rendered on the server (a page answering a form posted without
 * JavaScript shows the QR).
 */
const loadNativeQr = () => import('./native-qr').then((m) => m.NativeQr);
const loadBadge = () => import('./order-status-badge').then((m) => m.OrderStatusBadge);
const loadPaidRedirect = () => import('./paid-redirect').then((m) => m.PaidRedirect);
const loadStatus = () => import('./use-order-status');
const NativeQr = dynamic(loadNativeQr);
const OrderStatusBadge = dynamic(loadBadge);
const PaidRedirect = dynamic(loadPaidRedirect);

type Native = { orderId: string; qrSvg: string; expiresAt: string; amountFen: number; h5Refused?: boolean };
type Notice = { tone: 'info' | 'error'; text: string; link?: { href: string; text: string } };

/**
 * What is being paid: a product at a shop link (the buyer picks the quantity; the server prices it
 * from the catalog), or an existing checkout session at /pay/{id} (its amount is fixed).
 */
export type PayTarget =
  | { kind: 'shop'; sku: string; priceFen: number }
  | { kind: 'session'; sessionId: string; amountFen: number; successRedirect: string | null };

const nativeOf = (r: StartPaymentResult | null): Native | null =>
  r?.ok && r.kind === 'native' ? { orderId: r.orderId, qrSvg: r.qrSvg, expiresAt: r.expiresAt, amountFen: r.amountFen, h5Refused: r.h5Refused } : null;

/** What a refused start says to the buyer; an order that is already paid links to its page. */
function noticeOf(r: Extract<StartPaymentResult, { ok: false }>, c: CheckoutCopy): Notice {
  if (r.code === 'ALREADY_PAID' && r.orderId) return { tone: 'info', text: r.message, link: { href: `/orders/${r.orderId}`, text: c.viewOrder } };
  return { tone: 'error', text: r.message };
}

/**
 * Quantity (shop links) and the pay control. JSAPI (inside WeChat): the server action's signed
 * parameters go to getBrandWCPayRequest, waiting for WeixinJSBridgeReady when the bridge is not there
 * yet; `:ok` loads the order page (a session: its pay page, which confirms and goes on to success_url),
 * `:cancel` lets the buyer pay again (the same prepay is reused), `:fail` says why. Native (everywhere
 * else): the QR the server rendered, with countdown and live status. H5 (a phone browser outside WeChat,
 * mode `mweb`): the browser goes to WeChat's H5 cashier (payUrl), which returns it to the order page;
 * a merchant without H5 permission answers that same tap with the QR and the open-in-WeChat advice.
 *
 * The control is a <form> whose action is the server action, so it works before (or without) the
 * client bundle: without JavaScript the browser posts the form, the server runs the action and renders
 * the page again with the result (useActionState), QR included. With JavaScript, a tap before
 * hydration is held by a tiny inline script and replayed once the panel hydrates (./early-tap), and
 * after hydration the submit is handled here, as before.
 */
export function PayPanel(props: { target: PayTarget; mode: PayMode; copy: CheckoutCopy }) {
  const { copy: c, target, mode } = props;
  const here = target.kind === 'shop' ? `/shop/${target.sku}` : `/pay/${target.sessionId}`;
  // Non-null only on a page rendered in answer to a form posted without JavaScript.
  const [posted, formAction] = useActionState(target.kind === 'shop' ? submitPayForm : submitSessionPayForm, null);
  const [quantity, setQuantity] = useState(1);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(() => (posted && !posted.ok ? noticeOf(posted, c) : null));
  const [native, setNative] = useState<Native | null>(() => nativeOf(posted));
  const [payAgain, setPayAgain] = useState(false);
  const [jsapiOrder, setJsapiOrder] = useState<string | undefined>(undefined);
  // A ref, not state: two taps in the same tick must not both get through.
  const inFlight = useRef(false);
  const orderId = useRef<string | undefined>(posted?.orderId);
  const form = useRef<HTMLFormElement>(null);
  // Marks hydration (tests wait for it); the button works before it too, see above.
  const [ready, setReady] = useState(false);

  const failed = (r: Extract<StartPaymentResult, { ok: false }>) => {
    if (r.code === 'OAUTH_REQUIRED') {
      window.location.assign(`/api/wechat/oauth/start?returnTo=${encodeURIComponent(here)}`);
      return;
    }
    setNotice(noticeOf(r, c));
  };

  useEffect(() => {
    setReady(true);
    markHydrated();
    // A tap held before hydration: pay now, with the quantity that was in the box when it was tapped.
    const early = claimEarlyTap();
    if (early) void pay(early.quantity);
    // A JSAPI result posted before hydration (the early-tap script's last resort): open the sheet now.
    else if (posted?.ok && posted.kind === 'jsapi') void pay();
    // Then, when the page is idle, the code the first answer will need.
    const prefetch = () => void Promise.all([loadNativeQr(), loadBadge(), loadPaidRedirect(), loadStatus()]).catch(() => {});
    if ('requestIdleCallback' in window) window.requestIdleCallback(prefetch, { timeout: 3000 });
    else setTimeout(prefetch, 500);
    // Once, at hydration; pay() reads refs and the current props.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const submit = (e: FormEvent<HTMLFormElement>) => {
    // Hydrated: the action is called from here (JSAPI needs the answer in this page), not by a post.
    e.preventDefault();
    void pay();
  };

  async function pay(quantityNow: number = quantity) {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    setNotice(null);
    try {
      const r = target.kind === 'shop'
        ? await startPayment({ sku: target.sku, quantity: quantityNow, orderId: orderId.current })
        : await startSessionPayment({ sessionId: target.sessionId });
      if (!r.ok) return failed(r);
      orderId.current = r.orderId;
      if (r.kind === 'mweb') {
        // A navigation, not a fetch: WeChat's cashier checks the Referer (this page) against the H5 domain.
        setNotice({ tone: 'info', text: c.h5Opening });
        window.location.assign(r.payUrl);
        return;
      }
      if (r.kind === 'native') {
        // Forget the previous attempt's cached status (its expiry): the fresh QR must not flash as expired.
        const { forgetOrderStatus } = await loadStatus();
        await forgetOrderStatus(r.orderId);
        setNative({ orderId: r.orderId, qrSvg: r.qrSvg, expiresAt: r.expiresAt, amountFen: r.amountFen, h5Refused: r.h5Refused });
        return;
      }
      setJsapiOrder(r.orderId);
      if (!bridgeReadyNow()) setNotice({ tone: 'info', text: c.waitingBridge });
      const bridge = await whenBridgeReady();
      setNotice(null);
      const outcome = await requestPayment(bridge, r.params);
      if (outcome.kind === 'ok') {
        window.location.assign(target.kind === 'shop' ? `/orders/${encodeURIComponent(r.orderId)}?from=pay` : `${here}?from=pay`);
        return;
      }
      setPayAgain(true);
      if (outcome.kind === 'cancel') setNotice({ tone: 'info', text: c.cancelled });
      else setNotice({ tone: 'error', text: `${c.failed}: ${outcome.reason}` });
    } catch {
      setNotice({ tone: 'error', text: c.genericError });
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  }

  const changeQuantity = (v: string) => {
    const n = Math.trunc(Number(v));
    setQuantity(Number.isFinite(n) ? Math.min(99, Math.max(1, n)) : 1);
    // A different quantity is a different order and amount: forget the shown one.
    orderId.current = undefined;
    setJsapiOrder(undefined);
    setNative(null);
    setPayAgain(false);
  };

  const label = busy ? c.paying : payAgain ? c.payAgain : mode === 'native' ? c.showQr : c.pay;
  // A session's QR leaves nothing else to show here (no quantity, no button): no empty card above it.
  const controls = target.kind === 'shop' || !native || Boolean(jsapiOrder) || Boolean(notice);
  return (
    <div data-testid="pay-panel" data-mode={mode} data-ready={ready ? '1' : '0'}>
      {/* Runs as the HTML is parsed, before any bundle: holds a tap until hydration (./early-tap). */}
      <script dangerouslySetInnerHTML={{ __html: EARLY_TAP_SCRIPT }} />
      {controls && <form className="card" data-testid="pay-form" ref={form} action={formAction} onSubmit={submit}>
        {target.kind === 'shop' ? <input type="hidden" name="sku" value={target.sku} /> : <input type="hidden" name="sessionId" value={target.sessionId} />}
        {orderId.current && <input type="hidden" name="orderId" value={orderId.current} />}
        {target.kind === 'shop' && (
          <>
            <label>
              {c.quantity}{' '}
              <input
                data-testid="quantity"
                name="quantity"
                type="number"
                min={1}
                max={99}
                step={1}
                value={quantity}
                disabled={busy}
                onChange={(e) => changeQuantity(e.target.value)}
                style={{ width: 80 }}
              />
            </label>
            <p>
              {c.total} <span className="price" data-testid="total">¥{formatYuan(target.priceFen * quantity)}</span>
            </p>
          </>
        )}
        {!native && (
          <button type="submit" className="btn" data-testid="pay-button" disabled={busy}>
            {label}
          </button>
        )}
        {jsapiOrder && (
          <p className="muted">
            {c.statusLabel} <OrderStatusBadge orderId={jsapiOrder} copy={c} />
          </p>
        )}
        {notice && (
          <p data-testid="pay-notice" className={notice.tone === 'error' ? 'error' : 'muted'}>
            {notice.text} {notice.link && <a href={notice.link.href}>{notice.link.text}</a>}
          </p>
        )}
      </form>}
      {/* Once the page itself knows (a refresh after the action set a cookie renders it in native mode), it says so above. */}
      {native?.h5Refused && mode === 'mweb' && <p className="card" data-testid="open-in-wechat">{c.h5Refused} {c.openInWechat}</p>}
      {native && (
        <NativeQr
          key={native.qrSvg}
          orderId={native.orderId}
          qrSvg={native.qrSvg}
          expiresAt={native.expiresAt}
          amountText={formatYuan(native.amountFen)}
          copy={c}
          busy={busy}
          onRefresh={() => void pay()}
          scripted={ready}
          statusHref={target.kind === 'shop' ? `/orders/${encodeURIComponent(native.orderId)}` : `${here}?from=pay`}
        />
      )}
      {target.kind === 'session' && target.successRedirect && (native || jsapiOrder) && (
        <PaidRedirect orderId={native?.orderId ?? jsapiOrder!} href={target.successRedirect} />
      )}
    </div>
  );
}
