import { apiError, refuseUnlessMerchantApi } from '@/app/_http/api-error';
import { json } from '@/app/_http/json';
import { listOrderDeliveries } from '@/lib/checkout/webhooks';

export const dynamic = 'force-dynamic';

/** {data: [delivery with attempt_log]}: every webhook delivery about this order, newest first. */
export async function GET(_req: Request, { params }: { params: Promise<{ id: string }> }) {
  const refused = await refuseUnlessMerchantApi();
  if (refused) return refused;
  const r = await listOrderDeliveries((await params).id);
  return r.ok ? json({ data: r.value }) : apiError(r.error.status, r.error.code, r.error.message, r.error.param);
}
