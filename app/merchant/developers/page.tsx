import { listApiKeys } from '@/lib/checkout/developers';
import { getConfig } from '@/lib/config';
import { requestLocale } from '../../_components/locale';
import { merchantCopy } from '../_components/copy';
import { requireMerchantPage } from '../_components/guard';
import { MerchantNav } from '../_components/nav';
import { ApiKeysSection, type ApiKeyLabels } from './api-keys-section';
import { WebhooksSection } from './webhooks-section';

export const dynamic = 'force-dynamic';

/**
 * The merchant's Developers page: API keys for the checkout sessions API, where its reference is, and
 * webhook endpoints with their deliveries. Each part is a section component of its own.
 */
export default async function DevelopersPage() {
  await requireMerchantPage('/merchant/developers');
  const locale = await requestLocale();
  const en = locale === 'en';
  const copy = merchantCopy(locale);
  const keys = await listApiKeys();
  const base = getConfig().publicBaseUrl;
  const labels: ApiKeyLabels = en
    ? {
      title: 'API keys', intro: 'Your order system creates checkout sessions with a secret key: Authorization: Bearer sk_...',
      name: 'Name', create: 'Create key', shownOnce: 'Copy this key now: it is shown only once.', none: 'No API keys yet.',
      prefix: 'Key', created: 'Created', lastUsed: 'Last used', revoke: 'Revoke', revoked: 'revoked', mode: 'Mode',
    }
    : {
      title: 'API 密钥', intro: '你的订单系统用密钥创建收款会话：Authorization: Bearer sk_...',
      name: '名称', create: '创建密钥', shownOnce: '请立即复制这个密钥：它只显示这一次。', none: '还没有 API 密钥。',
      prefix: '密钥', created: '创建时间', lastUsed: '最近使用', revoke: '吊销', revoked: '已吊销', mode: '模式',
    };
  return (
    <main style={{ maxWidth: 1100 }}>
      <MerchantNav copy={copy} active="developers" />
      <ApiKeysSection keys={keys} labels={labels} />
      <WebhooksSection locale={locale} />
      <section className="card" data-testid="api-reference">
        <h2 style={{ fontSize: 17, marginTop: 0 }}>{en ? 'API reference' : 'API 参考'}</h2>
        <p>
          OpenAPI 3.1: <a href="/api/v1/openapi.json" data-testid="openapi-link">{`${base}/api/v1/openapi.json`}</a>
        </p>
        <pre style={{ whiteSpace: 'pre-wrap', fontSize: 13 }}>{`curl ${base}/api/v1/checkout/sessions \\
  -H "Authorization: Bearer sk_..." -H "Content-Type: application/json" \\
  -d '{"amount_fen": 4500, "description": "咖啡豆 1kg", "merchant_reference": "ORDER-10086"}'`}</pre>
      </section>
    </main>
  );
}
