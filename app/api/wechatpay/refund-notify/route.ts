import { readCappedBody, xmlResponse } from '@/app/_http/body';
import { clientAddress } from '@/app/_http/peer-address';
import { receiveRefundNotify, refuseRefundNotify } from '@/lib/checkout/refunds';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

/** WeChat's refund notify (req_info encrypted with md5 of the API key): raw body and X-Forwarded-For in, reply XML out. */
export async function POST(req: Request) {
  const body = await readCappedBody(req);
  const sender = clientAddress(req.headers);
  return xmlResponse(body.ok ? await receiveRefundNotify(body.text, sender) : await refuseRefundNotify(body.code, body.detail, body.head, sender));
}

/** Not a refund notify: answered FAIL with 405 and counted. */
export async function GET(req: Request) {
  return xmlResponse(await refuseRefundNotify('METHOD_NOT_ALLOWED', `${req.method} is not a refund notify`, null, clientAddress(req.headers)), 405);
}
