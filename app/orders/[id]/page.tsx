import { headers } from 'next/headers';
import { notFound } from 'next/navigation';
import { checkoutCopy } from '@/app/_components/checkout-copy';
import { isMerchant } from '@/app/_http/merchant-session';
import { orderStatusForViewer } from '@/lib/checkout/orders';
import { pickLocale } from '@/lib/i18n';
import { getSession } from '@/lib/session';
import { OrderLive } from './order-live';

export const dynamic = 'force-dynamic';

/** The buyer's order page: only its buyer (or a merchant) sees it; anyone else gets the 404 page. */
export default async function OrderPage(props: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const [{ id }, sp, session, h] = await Promise.all([props.params, props.searchParams, getSession(), headers()]);
  const returnedAt = new Date().toISOString();
  // Back from WeChat's H5 cashier: the page polls (which checks with WeChat); "check again" without
  // scripts (`check=1`) checks before rendering. Nothing here assumes the buyer paid.
  const h5 = sp.from === 'h5';
  const order = await orderStatusForViewer(id, { buyerId: session.buyerId, openid: session.openid, merchant: await isMerchant() }, h5 && sp.check === '1');
  if (!order) notFound();
  const c = checkoutCopy(pickLocale(h.get('accept-language')));
  return (
    <main>
      <h1>{c.orderTitle}</h1>
      <OrderLive initial={order} copy={c} fromPay={sp.from === 'pay'} h5={h5 ? { returnedAt } : undefined} />
      {/* An API checkout session has no product page to go back to. */}
      {order.sku && (
        <p>
          <a href={`/shop/${encodeURIComponent(order.sku)}`}>{c.backToShop}</a>
        </p>
      )}
    </main>
  );
}
