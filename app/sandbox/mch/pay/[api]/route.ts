import { serveMch } from '@/lib/sandbox/http';

type Ctx = { params: Promise<{ api: string }> };

/** https://api.mch.weixin.qq.com/pay/{unifiedorder,orderquery,closeorder,refundquery,downloadbill} */
export async function POST(req: Request, { params }: Ctx) {
  return serveMch((await params).api, req);
}

/** WeChat answers a GET with return_code FAIL (请使用post方法); so does the sandbox. */
export async function GET(req: Request, { params }: Ctx) {
  return serveMch((await params).api, req);
}
