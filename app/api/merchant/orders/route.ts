import { json } from '@/app/_http/json';
import { refuseUnlessMerchant } from '@/app/_http/merchant-session';
import { listOrders, parseOrderQuery } from '@/lib/checkout/merchant';

export const dynamic = 'force-dynamic';

/** `?status=&q=&from=&to=&cursor=&limit=` -> {orders, nextCursor}, newest first. */
export async function GET(req: Request) {
  const refused = await refuseUnlessMerchant();
  if (refused) return refused;
  const parsed = parseOrderQuery(new URL(req.url).searchParams);
  if (!parsed.ok) return json({ ok: false, code: 'BAD_REQUEST', message: parsed.message }, 400);
  return json(await listOrders(parsed.filter, parsed.cursor, parsed.limit));
}
