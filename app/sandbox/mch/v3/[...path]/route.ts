import { serveMchV3 } from '@/lib/sandbox/v3/http';

export const dynamic = 'force-dynamic';

/** https://api.mch.weixin.qq.com/v3/... (orders, query, close, refunds, bills, certificates): GET calls. */
export async function GET(req: Request) {
  return serveMchV3(req);
}

/** POST calls (orders, close, refund). */
export async function POST(req: Request) {
  return serveMchV3(req);
}
