import { json } from '@/app/_http/json';
import { refuseUnlessMerchant } from '@/app/_http/merchant-session';
import { ordersCsvStream, parseOrderQuery } from '@/lib/checkout/merchant';
import { chinaDate } from '@/lib/china-time';

export const dynamic = 'force-dynamic';

/** The filtered order list as a CSV download (same filters as GET /api/merchant/orders, every page). */
export async function GET(req: Request) {
  const refused = await refuseUnlessMerchant();
  if (refused) return refused;
  const params = new URL(req.url).searchParams;
  params.delete('cursor');
  params.delete('limit');
  const parsed = parseOrderQuery(params);
  if (!parsed.ok) return json({ ok: false, code: 'BAD_REQUEST', message: parsed.message }, 400);
  const name = `orders-${chinaDate()}${parsed.filter.status ? `-${parsed.filter.status}` : ''}.csv`;
  return new Response(ordersCsvStream(parsed.filter), {
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${name}"`,
      'Cache-Control': 'no-store',
    },
  });
}
