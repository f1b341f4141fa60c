import { json } from '@/app/_http/json';
import { refuseUnlessMerchant } from '@/app/_http/merchant-session';
import { todayTotals } from '@/lib/checkout/merchant';

export const dynamic = 'force-dynamic';

/** Today's (UTC+8) paid count, gross revenue and what was refunded of it. */
export async function GET() {
  const refused = await refuseUnlessMerchant();
  if (refused) return refused;
  return json({ today: await todayTotals() });
}
