import { json } from '@/app/_http/json';
import { refuseUnlessMerchant } from '@/app/_http/merchant-session';
import { listRefusedNotifies, parseRefusedHours } from '@/lib/checkout/merchant';

export const dynamic = 'force-dynamic';

/** Unverified notifies refused in the last `?hours=` (default 24), aggregated per route, code and hour. */
export async function GET(req: Request) {
  const refused = await refuseUnlessMerchant();
  if (refused) return refused;
  const hours = parseRefusedHours(new URL(req.url).searchParams.get('hours'));
  if (!hours.ok) return json(hours, 400);
  return json(await listRefusedNotifies(hours.hours));
}
