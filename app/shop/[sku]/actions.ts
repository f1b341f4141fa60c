'use server';
import { log } from '@/lib/log';
import { cookies, headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { z } from 'zod';
import { checkoutCopy } from '@/app/_components/checkout-copy';
import { clientAddress } from '@/app/_http/peer-address';
import { buyerIp, detectClient, ensureBuyerId } from '@/lib/checkout/buyer';
import { ORDER_ID_RE, SKU_RE } from '@/lib/checkout/kernel';
import { MAX_QUANTITY, payModeNow, startPayment as startPaymentFor, type StartPaymentResult } from '@/lib/checkout/payments';
import { pickLocale } from '@/lib/i18n';
import { getSession } from '@/lib/session';

const Input = z.object({
  sku: z.string().regex(SKU_RE),
  quantity: z.number().int().min(1).max(MAX_QUANTITY),
  orderId: z.string().regex(ORDER_ID_RE).optional(),
});

/**
 * The pay control's action. Everything that matters is decided here on the server: the trade type
 * from the request's own user agent, the amount from the catalog, the buyer from the session, the IP
 * from the request. The client sends only sku, quantity and the order it is showing.
 */
export async function startPayment(raw: unknown): Promise<StartPaymentResult> {
  const h = await headers();
  const c = checkoutCopy(pickLocale(h.get('accept-language')));
  const parsed = Input.safeParse(raw);
  if (!parsed.success) return { ok: false, code: 'INVALID_INPUT', message: c.invalidInput };
  const session = await getSession();
  const hadBuyer = session.buyerId;
  const buyerId = ensureBuyerId(session);
  if (hadBuyer !== buyerId) await session.save();
  const kind = detectClient(h.get('user-agent'), (await cookies()).get('sandbox_wechat_browser')?.value);
  try {
    const r = await startPaymentFor({
      ...parsed.data,
      buyerId,
      openid: session.openid,
      // H5 payment for a phone browser outside WeChat, unless WECHATPAY_MWEB or a remembered NO_AUTH says no.
      mode: await payModeNow(kind),
      clientIp: buyerIp(clientAddress(h)),
    });
    if (r.ok) return r;
    const message = {
      INVALID_INPUT: c.invalidInput,
      NOT_FOUND: c.notFound,
      OAUTH_REQUIRED: c.oauthRequired,
      ALREADY_PAID: c.alreadyPaid,
      EXPIRED: c.sessionExpired,
      CLOSED: c.sessionClosed,
      RATE_LIMITED: c.rateLimited.replace('{minutes}', String(Math.max(1, Math.ceil((r.retryAfterSec ?? 60) / 60)))),
      UPSTREAM: c.upstream,
      INTERNAL: c.genericError,
    }[r.code];
    return { ...r, message };
  } catch (e) {
    log().error({ event: 'start_payment', sku: parsed.data.sku, outcome: 'error', err: e }, 'startPayment action failed');
    return { ok: false, code: 'INTERNAL', message: c.genericError };
  }
}

/**
 * The same action as the pay form's own `action`, for a submit that JavaScript did not intercept (a
 * desktop buyer with scripts off): Next runs it on the form POST and renders the shop page again with
 * the result as the form's state, so the server-rendered page carries the QR. The fields are the
 * ones the client sends (sku, quantity, the order shown), read from the form and checked the same way.
 */
export async function submitPayForm(_previous: StartPaymentResult | null, form: FormData): Promise<StartPaymentResult> {
  const field = (name: string) => {
    const v = form.get(name);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const quantity = field('quantity');
  const r = await startPayment({ sku: field('sku'), quantity: quantity === undefined ? 1 : Number(quantity), orderId: field('orderId') });
  // Only a WeChat buyer needs an openid, and WeChat runs scripts: this is a page without them anyway.
  if (!r.ok && r.code === 'OAUTH_REQUIRED') redirect(`/api/wechat/oauth/start?returnTo=${encodeURIComponent(`/shop/${field('sku') ?? ''}`)}`);
  // H5 payment without scripts: the browser follows a 303 to WeChat's cashier, with this page as Referer.
  if (r.ok && r.kind === 'mweb') redirect(r.payUrl);
  return r;
}

/**
 * "Pay again" on the H5 return page (/orders/{id}?from=h5): the same order again, straight to WeChat's
 * cashier (a fresh mweb_url when the last one is too old). A refusal about an order (already paid,
 * meanwhile expired or closed) goes back to that order's return page, which shows the truth rather than
 * a blank shop page; only the QR fallback (NO_AUTH: h5Refused) and refusals with no order go to the shop
 * page, where the buyer can act on them. Works without scripts.
 */
export async function payAgainForm(form: FormData): Promise<void> {
  const sku = form.get('sku');
  const quantity = Number(form.get('quantity') ?? 1);
  const orderId = form.get('orderId');
  const r = await startPayment({ sku, quantity, orderId: typeof orderId === 'string' && orderId !== '' ? orderId : undefined });
  if (r.ok && r.kind === 'mweb') redirect(r.payUrl);
  if (!r.ok && r.orderId && ORDER_ID_RE.test(r.orderId)) redirect(`/orders/${r.orderId}?from=h5`);
  redirect(typeof sku === 'string' && SKU_RE.test(sku) ? `/shop/${sku}` : '/');
}
