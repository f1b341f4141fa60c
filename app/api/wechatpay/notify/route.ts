import { after } from 'next/server';
import { notifyHeaders, notifyResponse, readCappedBody } from '@/app/_http/body';
import { clientAddress } from '@/app/_http/peer-address';
import { receivePaymentNotify, refusePaymentNotify } from '@/lib/checkout/payments';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

/**
 * WeChat's payment notify, v2 XML or v3 JSON alike: the raw body (capped) and the Wechatpay-*
 * signature headers go to lib/checkout as plain values, with the client address that tells senders of
 * unverified junk apart, and its answer comes back; work it asks for after the answer (a duplicate
 * payment's refund) runs in `after()`.
 */
export async function POST(req: Request) {
  const body = await readCappedBody(req);
  const sender = clientAddress(req.headers);
  const reply = body.ok ? await receivePaymentNotify(body.text, sender, notifyHeaders(req.headers)) : await refusePaymentNotify(body.code, body.detail, body.head, sender);
  if (reply.afterResponse) after(reply.afterResponse);
  return notifyResponse(reply.answer);
}

/** Not a notify: answered FAIL with 405 and counted, so probes show up in the merchant's refused-notify counts. */
export async function GET(req: Request) {
  const reply = await refusePaymentNotify('METHOD_NOT_ALLOWED', `${req.method} is not a notify (WeChat POSTs XML or JSON)`, null, clientAddress(req.headers), 405);
  return notifyResponse(reply.answer);
}
