import Link from 'next/link';
import { logoutAction } from '../login/actions';
import type { Copy } from './copy';

/** The merchant pages' navigation bar, with the current page in bold and the logout button. */
export function MerchantNav({ copy, active }: { copy: Copy; active: 'orders' | 'products' | 'developers' }) {
  return (
    <nav className="merchant-nav" style={{ display: 'flex', gap: 16, alignItems: 'center', marginBottom: 12 }}>
      <strong>{copy.title}</strong>
      <Link href="/merchant/orders" prefetch={false} style={{ fontWeight: active === 'orders' ? 700 : 400 }}>{copy.orders}</Link>
      <Link href="/merchant/products" prefetch={false} style={{ fontWeight: active === 'products' ? 700 : 400 }}>{copy.products}</Link>
      <Link href="/merchant/developers" prefetch={false} style={{ fontWeight: active === 'developers' ? 700 : 400 }} data-testid="nav-developers">{copy.developers}</Link>
      <form action={logoutAction} style={{ marginLeft: 'auto' }}>
        <button type="submit" className="btn secondary" style={{ padding: '6px 12px', fontSize: 14 }} data-testid="merchant-logout">{copy.logout}</button>
      </form>
    </nav>
  );
}
