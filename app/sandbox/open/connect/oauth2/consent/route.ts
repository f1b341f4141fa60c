import { readCookie, sandboxOff, USER_COOKIE } from '@/lib/sandbox/guard';
import { html, seeOther } from '@/lib/sandbox/http';
import { checkAuthorize, issueCode } from '@/lib/sandbox/oauth';
import { oauthErrorPage } from '@/lib/sandbox/pages';
import { currentUser } from '@/lib/sandbox/users';

/** The consent page's answer (snsapi_userinfo): allow issues the code and redirects; deny stays in WeChat. */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const form = await req.formData();
  const q = new URLSearchParams();
  for (const k of ['appid', 'redirect_uri', 'response_type', 'scope', 'state']) q.set(k, String(form.get(k) ?? ''));
  const check = await checkAuthorize(q);
  if (!check.ok) return html(oauthErrorPage(check.errcode, check.message), 400);
  if (form.get('decision') !== 'allow') return html(oauthErrorPage(0, '你已拒绝授权'), 200);
  const user = await currentUser(readCookie(req, USER_COOKIE));
  return seeOther(await issueCode(check, user));
}
