'use server';
import { cookies, headers } from 'next/headers';
import { z } from 'zod';
import { checkoutCopy } from '@/app/_components/checkout-copy';
import { buyerIp, effectiveClientKind, ensureBuyerId, payModeFor } from '@/lib/checkout/buyer';
import { MAX_QUANTITY, startPayment as startPaymentFor, type StartPaymentResult } from '@/lib/checkout/orders';
import { getConfig } from '@/lib/config';
import { pickLocale } from '@/lib/i18n';
import { getSession } from '@/lib/session';
import { classifyUserAgent } from '@/lib/wechat/ua';

const Input = z.object({
  sku: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  quantity: z.number().int().min(1).max(MAX_QUANTITY),
  orderId: z.string().regex(/^o_[A-Za-z0-9_-]{8,64}$/).optional(),
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
  const config = getConfig();
  const session = await getSession();
  const hadBuyer = session.buyerId;
  const buyerId = ensureBuyerId(session);
  if (hadBuyer !== buyerId) await session.save();
  const kind = effectiveClientKind(classifyUserAgent(h.get('user-agent') ?? ''), config.mode === 'sandbox', (await cookies()).get('sandbox_wechat_browser')?.value);
  try {
    const r = await startPaymentFor({
      ...parsed.data,
      buyerId,
      openid: session.openid,
      mode: payModeFor(kind),
      clientIp: buyerIp(h.get('x-forwarded-for'), config.trustProxy),
    });
    if (r.ok) return r;
    const message = {
      INVALID_INPUT: c.invalidInput,
      NOT_FOUND: c.notFound,
      OAUTH_REQUIRED: c.oauthRequired,
      ALREADY_PAID: c.alreadyPaid,
      UPSTREAM: c.upstream,
      INTERNAL: c.genericError,
    }[r.code];
    return { ...r, message };
  } catch (e) {
    console.error('startPayment failed', e);
    return { ok: false, code: 'INTERNAL', message: c.genericError };
  }
}
