import { notifyHeaders, notifyResponse, readCappedBody } from '@/app/_http/body';
import { clientAddress } from '@/app/_http/peer-address';
import { receiveRefundNotify, refuseRefundNotify } from '@/lib/checkout/refunds';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

/** WeChat's refund notify (v2: req_info encrypted with md5 of the API key; v3: signed JSON, AES-GCM resource): raw body and headers in, the answer out. */
export async function POST(req: Request) {
  const body = await readCappedBody(req);
  const sender = clientAddress(req.headers);
  return notifyResponse(body.ok ? await receiveRefundNotify(body.text, sender, notifyHeaders(req.headers)) : await refuseRefundNotify(body.code, body.detail, body.head, sender));
}

/** Not a refund notify: answered FAIL with 405 and counted. */
export async function GET(req: Request) {
  return notifyResponse(await refuseRefundNotify('METHOD_NOT_ALLOWED', `${req.method} is not a refund notify`, null, clientAddress(req.headers), 405));
}
