import { ordersJson } from '@/lib/sandbox/dashboard';
import { json, sandboxOff } from '@/lib/sandbox/guard';

/** Newest 100 orders of every merchant; `?out_trade_no=` narrows to one, `?mch_id=` to one merchant's. */
export async function GET(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const q = new URL(req.url).searchParams;
  return json(await ordersJson(q.get('out_trade_no') || undefined, q.get('mch_id') || undefined));
}
