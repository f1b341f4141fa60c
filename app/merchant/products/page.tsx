import { formatYuan } from '@/lib/money';
import { listAllProducts, shopLink } from '@/lib/checkout/catalog';
import { requestLocale } from '../../_components/locale';
import { merchantCopy } from '../_components/copy';
import { requireMerchantPage } from '../_components/guard';
import { MerchantNav } from '../_components/nav';
import { AddProductForm, EditProductForm, type ProductLabels } from './product-forms';

export const dynamic = 'force-dynamic';

export default async function MerchantProducts() {
  await requireMerchantPage('/merchant/products');
  const locale = await requestLocale();
  const en = locale === 'en';
  const copy = merchantCopy(locale);
  const products = await listAllProducts();
  const labels: ProductLabels = en
    ? { sku: 'SKU', name: 'Name', description: 'Description', price: 'Price (yuan)', add: 'Add product', save: 'Save', activate: 'Put on sale', deactivate: 'Deactivate' }
    : { sku: 'SKU', name: '名称', description: '描述', price: '价格（元）', add: '添加商品', save: '保存', activate: '上架', deactivate: '下架' };

  return (
    <main style={{ maxWidth: 1100 }}>
      <MerchantNav copy={copy} active="products" />
      <section className="card">
        <h2 style={{ fontSize: 17, marginTop: 0 }}>{labels.add}</h2>
        <AddProductForm labels={labels} />
      </section>
      {products.map((p) => {
        const link = shopLink(p.sku);
        const qr = `/api/merchant/products/${encodeURIComponent(p.sku)}/qr`;
        return (
          <section key={p.sku} className="card" data-testid="merchant-product" data-sku={p.sku} data-active={p.active ? '1' : '0'} style={{ display: 'flex', gap: 16, flexWrap: 'wrap', opacity: p.active ? 1 : 0.7 }}>
            <div style={{ flex: '0 0 160px', textAlign: 'center' }}>
              {/* eslint-disable-next-line @next/next/no-img-element -- a private, uncached merchant-only image */}
              <img src={`${qr}?format=png`} alt={`QR ${p.sku}`} width={160} height={160} data-testid="product-qr" />
              <div style={{ display: 'flex', gap: 8, justifyContent: 'center', fontSize: 13 }}>
                <a href={`${qr}?format=png&download=1`} download data-testid="qr-png">PNG</a>
                <a href={`${qr}?format=svg&download=1`} download data-testid="qr-svg">{en ? 'SVG poster' : 'SVG 海报'}</a>
              </div>
            </div>
            <div style={{ flex: '1 1 400px' }}>
              <div>
                <strong>{p.name}</strong> <span className="price">¥{formatYuan(p.price_fen)}</span>{' '}
                <span className={`badge ${p.active ? 'paid' : 'closed'}`}>{p.active ? (en ? 'on sale' : '在售') : (en ? 'inactive' : '已下架')}</span>
              </div>
              <div className="muted">SKU <code>{p.sku}</code></div>
              <div style={{ margin: '6px 0', wordBreak: 'break-all' }}>
                {en ? 'Shop link' : '店铺链接'}: <a href={link} data-testid="shop-link">{link}</a>
              </div>
              <EditProductForm sku={p.sku} name={p.name} description={p.description} priceYuan={formatYuan(p.price_fen)} active={p.active === 1} labels={labels} />
            </div>
          </section>
        );
      })}
    </main>
  );
}
