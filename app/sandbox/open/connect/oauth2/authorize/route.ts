import { sandboxOff, readCookie, USER_COOKIE, userCookie } from '@/lib/sandbox/guard';
import { html } from '@/lib/sandbox/http';
import { checkAuthorize, issueCode } from '@/lib/sandbox/oauth';
import { consentPage, oauthErrorPage } from '@/lib/sandbox/pages';
import { currentUser } from '@/lib/sandbox/users';

/**
 * https://open.weixin.qq.com/connect/oauth2/authorize: snsapi_base redirects at once (302) to
 * redirect_uri?code=&state=; snsapi_userinfo first asks the simulated user's consent.
 */
export async function GET(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const q = new URL(req.url).searchParams;
  const check = await checkAuthorize(q);
  if (!check.ok) return html(oauthErrorPage(check.errcode, check.message), 400);
  const user = await currentUser(readCookie(req, USER_COOKIE));
  const cookies = [userCookie(user.id)];
  if (check.scope === 'snsapi_userinfo') return html(consentPage(q, user.name), 200, cookies);
  const location = await issueCode(check, user);
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  headers.append('set-cookie', cookies[0]);
  return new Response(null, { status: 302, headers });
}
