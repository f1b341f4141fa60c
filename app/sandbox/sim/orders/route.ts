import { ordersJson } from '@/lib/sandbox/dashboard';
import { json, sandboxOff } from '@/lib/sandbox/guard';

/** Newest 100 orders; `?out_trade_no=` narrows to one. */
export async function GET(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  return json(await ordersJson(new URL(req.url).searchParams.get('out_trade_no') || undefined));
}
