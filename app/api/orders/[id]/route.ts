import { isMerchant } from '@/app/_http/merchant-session';
import { orderStatusForViewer } from '@/lib/checkout/orders';
import { getSession } from '@/lib/session';

export const dynamic = 'force-dynamic';

/** GET /api/orders/[id]: `{id, status, amountFen, ...}` for the buyer who owns it or a merchant; 404 otherwise. */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  const session = await getSession();
  const json = await orderStatusForViewer(id, { buyerId: session.buyerId, openid: session.openid, merchant: await isMerchant() });
  if (!json) return Response.json({ error: 'not_found' }, { status: 404, headers: { 'cache-control': 'no-store' } });
  return Response.json(json, { headers: { 'cache-control': 'no-store' } });
}
