import { headers } from 'next/headers';
import { pickLocale } from '@/lib/i18n';
import { checkoutCopy } from './checkout-copy';

/** The 404 of the buyer pages (unknown product, or an order that is not the viewer's), in the buyer's language. */
export async function CheckoutNotFound() {
  const c = checkoutCopy(pickLocale((await headers()).get('accept-language')));
  return (
    <main>
      <div className="card" data-testid="not-found">
        <h1>{c.notFoundTitle}</h1>
        <p className="muted">{c.notFoundBody}</p>
        <p>
          <a href="/">{c.backToShop}</a>
        </p>
      </div>
    </main>
  );
}
