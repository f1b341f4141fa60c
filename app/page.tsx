import { listActiveProducts } from '@/lib/checkout/catalog';
import { formatYuan } from '@/lib/money';
import { requestLocale } from './_components/locale';

export const dynamic = 'force-dynamic';

export default async function HomePage() {
  const [products, locale] = await Promise.all([listActiveProducts(), requestLocale()]);
  const en = locale === 'en';
  return (
    <main>
      <h1>{en ? 'Shop' : '商店'}</h1>
      {products.length === 0 && <p className="muted">{en ? 'Nothing for sale yet.' : '暂无在售商品。'}</p>}
      <ul data-testid="catalog" style={{ listStyle: 'none', padding: 0 }}>
        {products.map((p) => (
          <li key={p.sku} className="card" data-testid="product" data-sku={p.sku}>
            {/* A plain <a>: the shop page must be entered by a full page load (iOS WeChat checks the
                landing URL against the payment directory), never a client-side navigation. */}
            <a href={`/shop/${encodeURIComponent(p.sku)}`}>
              <strong>{p.name}</strong>
            </a>
            <div className="muted">{p.description}</div>
            <div className="price">¥{formatYuan(p.price_fen)}</div>
          </li>
        ))}
      </ul>
    </main>
  );
}
