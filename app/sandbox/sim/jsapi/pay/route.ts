import { json, readCookie, sandboxOff, USER_COOKIE } from '@/lib/sandbox/guard';
import { readJson } from '@/lib/sandbox/http';
import { jsapiPageOf, payFromSheet } from '@/lib/sandbox/jsapi-check';
import { currentUser } from '@/lib/sandbox/users';

/** The payment sheet's Pay button. */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const user = await currentUser(readCookie(req, USER_COOKIE));
  const r = await payFromSheet(await readJson(req), user, jsapiPageOf(req.headers));
  return r.ok ? json(r) : json(r, r.status);
}
