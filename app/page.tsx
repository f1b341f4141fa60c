import Link from 'next/link';
import { formatYuan, listActiveProducts } from '@/lib/checkout/catalog';
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
            <Link href={`/shop/${encodeURIComponent(p.sku)}`} prefetch={false}>
              <strong>{p.name}</strong>
            </Link>
            <div className="muted">{p.description}</div>
            <div className="price">¥{formatYuan(p.price_fen)}</div>
          </li>
        ))}
      </ul>
    </main>
  );
}
