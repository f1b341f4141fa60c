import { cookies, headers } from 'next/headers';
import { notFound, redirect } from 'next/navigation';
import { checkoutCopy } from '@/app/_components/checkout-copy';
import { detectClient } from '@/lib/checkout/buyer';
import { getActiveProduct } from '@/lib/checkout/catalog';
import { payModeNow } from '@/lib/checkout/payments';
import { getConfig } from '@/lib/config';
import { pickLocale } from '@/lib/i18n';
import { formatYuan } from '@/lib/money';
import { getSession } from '@/lib/session';
import { PayPanel } from '@/app/_components/pay-panel';

export const dynamic = 'force-dynamic';

/**
 * The shop link. Entered by a full page load (iOS WeChat checks the landing URL against the payment
 * directory). A WeChat buyer without an openid goes through OAuth first and comes back here by 302.
 * A phone browser outside WeChat gets H5 payment (WECHATPAY_MWEB), else the open-in-WeChat advice and a QR.
 */
export default async function ShopPage({ params }: { params: Promise<{ sku: string }> }) {
  const { sku } = await params;
  const product = await getActiveProduct(sku);
  if (!product) notFound();
  const [h, jar, session] = await Promise.all([headers(), cookies(), getSession()]);
  const config = getConfig();
  const sandbox = config.mode === 'sandbox';
  const c = checkoutCopy(pickLocale(h.get('accept-language')));
  const kind = detectClient(h.get('user-agent'), jar.get('sandbox_wechat_browser')?.value);
  // A phone browser outside WeChat pays in WeChat's H5 cashier (MWEB) unless the merchant may not.
  const mode = await payModeNow(kind);
  if (mode === 'jsapi' && !session.openid) {
    redirect(`/api/wechat/oauth/start?returnTo=${encodeURIComponent(`/shop/${product.sku}`)}`);
  }
  return (
    <main>
      {/* The real WeChat client injects WeixinJSBridge; the sandbox's stand-in defines it only when absent. */}
      {mode === 'jsapi' && sandbox && <script src="/sandbox/bridge.js" async />}
      <p>
        <a href="/">{c.backToShop}</a>
      </p>
      <div className="card" data-testid="product" data-sku={product.sku}>
        <h1>{product.name}</h1>
        <p className="muted">{product.description}</p>
        <p className="price" data-testid="price">¥{formatYuan(product.price_fen)}</p>
      </div>
      {kind === 'mobile' && mode === 'native' && <p className="card" data-testid="open-in-wechat">{c.openInWechat}</p>}
      {kind === 'wecom' && <p className="card" data-testid="wecom-note">{c.wecom}</p>}
      <PayPanel target={{ kind: 'shop', sku: product.sku, priceFen: product.price_fen }} mode={mode} copy={c} />
    </main>
  );
}
