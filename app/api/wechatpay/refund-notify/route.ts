import { readCappedBody, xmlResponse } from '@/app/_http/body';
import { receiveRefundNotify, refuseRefundNotify } from '@/lib/checkout/refunds';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

/** WeChat's refund notify (req_info encrypted with md5 of the API key): raw body and X-Forwarded-For in, reply XML out. */
export async function POST(req: Request) {
  const body = await readCappedBody(req);
  const xff = req.headers.get('x-forwarded-for');
  return xmlResponse(body.ok ? await receiveRefundNotify(body.text, xff) : await refuseRefundNotify(body.code, body.detail, body.head, xff));
}

/** Not a refund notify: answered FAIL with 405 and counted. */
export async function GET(req: Request) {
  return xmlResponse(await refuseRefundNotify('METHOD_NOT_ALLOWED', `${req.method} is not a refund notify`, null, req.headers.get('x-forwarded-for')), 405);
}
