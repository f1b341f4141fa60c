import { log } from '@/lib/log';
import { checkoutCopy } from '@/app/_components/checkout-copy';
import { htmlPage } from '@/app/_components/html-page';
import { completeOAuth } from '@/lib/checkout/buyer';
import { pickLocale } from '@/lib/i18n';
import { getSession } from '@/lib/session';

export const dynamic = 'force-dynamic';

/** GET /api/wechat/oauth/callback?code&state: WeChat's redirect back after snsapi_base. */
export async function GET(req: Request) {
  const url = new URL(req.url);
  const session = await getSession();
  const outcome = await completeOAuth(session, url.searchParams.get('code'), url.searchParams.get('state'));
  await session.save();
  if (outcome.kind !== 'error') {
    // 302 with a full page load of the shop page: iOS WeChat checks the landing URL against the payment directory.
    return new Response(null, { status: 302, headers: { location: outcome.location, 'cache-control': 'no-store' } });
  }
  const locale = pickLocale(req.headers.get('accept-language'));
  const c = checkoutCopy(locale);
  const back = { href: '/', text: c.backToShop };
  switch (outcome.reason) {
    case 'state':
      return htmlPage({ locale, title: c.oauthStateTitle, body: c.oauthState, link: back, status: 400, testId: 'oauth-error' });
    case 'snapshot':
      return htmlPage({ locale, title: c.snapshotTitle, body: c.snapshot, status: 200, testId: 'oauth-snapshot' });
    case 'code_used':
      return htmlPage({ locale, title: c.oauthStateTitle, body: c.oauthCodeUsed, link: back, status: 400, testId: 'oauth-error' });
    case 'no_code':
      return htmlPage({ locale, title: c.oauthStateTitle, body: c.oauthNoCode, link: back, status: 400, testId: 'oauth-error' });
    default:
      log().warn({ event: 'oauth', outcome: 'exchange_failed', detail: outcome.detail }, 'oauth callback: code exchange failed');
      return htmlPage({ locale, title: c.oauthStateTitle, body: c.oauthUpstream, link: back, status: 502, testId: 'oauth-error' });
  }
}
