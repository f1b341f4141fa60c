import { redirect } from 'next/navigation';
import { isMerchant } from '@/app/_http/merchant-session';

/** Every merchant page starts here: anyone else is sent to the login (a redirect, never the page). */
export async function requireMerchantPage(here: string): Promise<void> {
  if (!(await isMerchant())) redirect(`/merchant/login?next=${encodeURIComponent(here)}`);
}

/** Only same-site merchant paths are followed after login (no open redirect). */
export function safeNext(next: string | undefined | null): string {
  return next && /^\/merchant(\/[A-Za-z0-9_\-/.?=&%]*)?$/.test(next) && !next.startsWith('/merchant/login') ? next : '/merchant/orders';
}
