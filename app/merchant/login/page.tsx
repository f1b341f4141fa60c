import { redirect } from 'next/navigation';
import { isMerchant } from '@/app/_http/merchant-session';
import { requestLocale } from '../../_components/locale';
import { merchantCopy } from '../_components/copy';
import { safeNext } from '../_components/guard';
import { LoginForm } from './login-form';

export const dynamic = 'force-dynamic';

export default async function MerchantLogin({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const next = safeNext((await searchParams).next);
  if (await isMerchant()) redirect(next);
  const copy = merchantCopy(await requestLocale());
  return (
    <main style={{ maxWidth: 420 }}>
      <h1>{copy.loginTitle}</h1>
      <LoginForm next={next} labels={{ password: copy.password, login: copy.login }} />
    </main>
  );
}
