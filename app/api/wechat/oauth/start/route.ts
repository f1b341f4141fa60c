import { getConfig } from '@/lib/config';
import { beginOAuth, safeReturnTo } from '@/lib/checkout/oauth-flow';
import { getSession } from '@/lib/session';

export const dynamic = 'force-dynamic';

/** GET /api/wechat/oauth/start?returnTo=/shop/sku: state nonce into the session, then WeChat's authorize. */
export async function GET(req: Request) {
  const url = new URL(req.url);
  const returnTo = safeReturnTo(url.searchParams.get('returnTo'), getConfig().publicBaseUrl);
  const session = await getSession();
  const location = beginOAuth(session, returnTo);
  await session.save();
  return new Response(null, { status: 302, headers: { location, 'cache-control': 'no-store' } });
}
