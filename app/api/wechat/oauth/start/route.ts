import { startOAuth } from '@/lib/checkout/buyer';
import { getSession } from '@/lib/session';

export const dynamic = 'force-dynamic';

/** GET /api/wechat/oauth/start?returnTo=/shop/sku: state nonce into the session, then WeChat's authorize. */
export async function GET(req: Request) {
  const session = await getSession();
  const location = startOAuth(session, new URL(req.url).searchParams.get('returnTo'));
  await session.save();
  return new Response(null, { status: 302, headers: { location, 'cache-control': 'no-store' } });
}
