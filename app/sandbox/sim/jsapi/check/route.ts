import { formatYuan } from '@/lib/money';
import { json, readCookie, sandboxOff, USER_COOKIE } from '@/lib/sandbox/guard';
import { readJson } from '@/lib/sandbox/http';
import { jsapiPageOf, checkJsapiParams } from '@/lib/sandbox/jsapi-check';
import { currentUser } from '@/lib/sandbox/users';

/** bridge.js asks here what WeChat would say about getBrandWCPayRequest params (the sandbox_user cookie is the buyer). */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const user = await currentUser(readCookie(req, USER_COOKIE));
  const c = await checkJsapiParams(await readJson(req), user, jsapiPageOf(req.headers));
  if (!c.ok) return json({ ok: false, reason: c.reason });
  return json({ ok: true, order: { amount: formatYuan(c.order.total_fee), total_fee: c.order.total_fee, body: c.order.body, merchant: c.merchantName } });
}
