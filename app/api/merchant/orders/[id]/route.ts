import { json } from '@/app/_http/json';
import { refuseUnlessMerchant } from '@/app/_http/merchant-session';
import { getMerchantOrder } from '@/lib/checkout/merchant';

export const dynamic = 'force-dynamic';

/** {order, attempts, refunds, events} of one order. */
export async function GET(_req: Request, { params }: { params: Promise<{ id: string }> }) {
  const refused = await refuseUnlessMerchant();
  if (refused) return refused;
  const { id } = await params;
  const detail = await getMerchantOrder(id);
  if (!detail) return json({ ok: false, code: 'NOT_FOUND', message: `no order ${id}` }, 404);
  return json(detail);
}
