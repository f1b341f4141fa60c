import { requestLocale } from '../../_components/locale';
import { merchantCopy } from '../_components/copy';
import { requireMerchantPage } from '../_components/guard';
import { MerchantNav } from '../_components/nav';
import { WebhooksSection } from './webhooks-section';

export const dynamic = 'force-dynamic';

/** The merchant's developer settings: each section lives in its own component file. */
export default async function MerchantDevelopers() {
  await requireMerchantPage('/merchant/developers');
  const locale = await requestLocale();
  return (
    <main style={{ maxWidth: 1100 }}>
      <MerchantNav copy={merchantCopy(locale)} active="developers" />
      <WebhooksSection locale={locale} />
    </main>
  );
}
