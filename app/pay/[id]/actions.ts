'use server';
import { cookies, headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { z } from 'zod';
import { checkoutCopy } from '@/app/_components/checkout-copy';
import { clientAddress } from '@/app/_http/peer-address';
import { buyerIp, detectClient } from '@/lib/checkout/buyer';
import { ORDER_ID_RE } from '@/lib/checkout/kernel';
import { payModeNow, startSessionPayment as startSessionPaymentFor, type StartPaymentResult } from '@/lib/checkout/payments';
import { pickLocale } from '@/lib/i18n';
import { log } from '@/lib/log';
import { getSession } from '@/lib/session';

const Input = z.object({ sessionId: z.string().regex(ORDER_ID_RE) });

/**
 * The pay control's action on /pay/{id}. The client sends only the session id: the amount and the
 * description are the session's, the trade type comes from the request's user agent, the payer's
 * openid from the cookie session, the IP from the request.
 */
export async function startSessionPayment(raw: unknown): Promise<StartPaymentResult> {
  const h = await headers();
  const c = checkoutCopy(pickLocale(h.get('accept-language')));
  const parsed = Input.safeParse(raw);
  if (!parsed.success) return { ok: false, code: 'INVALID_INPUT', message: c.notFoundBody };
  const session = await getSession();
  const kind = detectClient(h.get('user-agent'), (await cookies()).get('sandbox_wechat_browser')?.value);
  try {
    const r = await startSessionPaymentFor({
      orderId: parsed.data.sessionId,
      openid: session.openid,
      // H5 payment for a phone browser outside WeChat, unless WECHATPAY_MWEB or a remembered NO_AUTH says no.
      mode: await payModeNow(kind),
      clientIp: buyerIp(clientAddress(h)),
    });
    if (r.ok) return r;
    const message = {
      INVALID_INPUT: c.notFoundBody,
      NOT_FOUND: c.notFoundBody,
      OAUTH_REQUIRED: c.oauthRequired,
      ALREADY_PAID: c.sessionPaid,
      EXPIRED: c.sessionExpired,
      CLOSED: c.sessionClosed,
      RATE_LIMITED: c.genericError,
      UPSTREAM: c.upstream,
      INTERNAL: c.genericError,
    }[r.code];
    return { ...r, message };
  } catch (e) {
    log().error({ event: 'start_payment', session_id: parsed.data.sessionId, err: e }, 'startSessionPayment failed');
    return { ok: false, code: 'INTERNAL', message: c.genericError };
  }
}

/**
 * The pay form's action for a submit JavaScript did not intercept (scripts off): Next runs it on the
 * form POST and renders /pay/{id} again with the result as the form's state, QR included.
 */
export async function submitSessionPayForm(_previous: StartPaymentResult | null, form: FormData): Promise<StartPaymentResult> {
  const id = form.get('sessionId');
  const r = await startSessionPayment({ sessionId: typeof id === 'string' ? id : undefined });
  if (!r.ok && r.code === 'OAUTH_REQUIRED' && typeof id === 'string') redirect(`/api/wechat/oauth/start?returnTo=${encodeURIComponent(`/pay/${id}`)}`);
  // H5 payment without scripts: the browser follows a 303 to WeChat's cashier, with this page as Referer.
  if (r.ok && r.kind === 'mweb') redirect(r.payUrl);
  return r;
}

/**
 * "Pay again" on a session's H5 return page (/pay/{id}?from=h5): straight to WeChat's cashier again. A
 * refusal about the session (already paid, expired, closed) goes back to its return page, which shows
 * the truth (and a paid session's success_url); anything else is shown on the pay page. Works without scripts.
 */
export async function payAgainSessionForm(form: FormData): Promise<void> {
  const id = form.get('sessionId');
  const r = await startSessionPayment({ sessionId: typeof id === 'string' ? id : undefined });
  if (r.ok && r.kind === 'mweb') redirect(r.payUrl);
  if (!r.ok && r.orderId && ORDER_ID_RE.test(r.orderId)) redirect(`/pay/${r.orderId}?from=h5`);
  redirect(typeof id === 'string' && ORDER_ID_RE.test(id) ? `/pay/${id}` : '/');
}
