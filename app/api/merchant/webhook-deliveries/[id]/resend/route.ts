import { apiError, refuseUnlessMerchantApi } from '@/app/_http/api-error';
import { json } from '@/app/_http/json';
import { resendDelivery } from '@/lib/checkout/webhooks';

export const dynamic = 'force-dynamic';

/**
 * The same event to the same endpoint, now: 201 {delivery, created: true} with a new delivery when the
 * original was delivered or failed, 200 {delivery, created: false} when it was still pending (made due now).
 */
export async function POST(_req: Request, { params }: { params: Promise<{ id: string }> }) {
  const refused = await refuseUnlessMerchantApi();
  if (refused) return refused;
  const r = await resendDelivery((await params).id);
  if (!r.ok) return apiError(r.error.status, r.error.code, r.error.message, r.error.param);
  return json(r.value, r.value.created ? 201 : 200);
}
