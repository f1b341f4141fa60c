import { randomBytes } from 'node:crypto';
import { sandboxDb } from './db';
import { nowIso } from '../db';
import { newCode, newToken } from './ids';
import { merchantByAppId } from './merchants';
import { ensureOpenid, type SandboxUser } from './users';

/** A code is single-use and lives 5 minutes (docs/wechatpay-v2.md §9). */
const CODE_TTL_MS = 5 * 60 * 1000;

export type AuthorizeCheck =
  | { ok: true; appid: string; redirectUri: string; scope: 'snsapi_base' | 'snsapi_userinfo'; state: string }
  | { ok: false; errcode: number; message: string };

/**
 * True when `url` is on the web-auth domain (网页授权域名) `domain`: the same host, and the same port
 * when the domain names one (the checkout's own domain is its PUBLIC_BASE_URL host, port included).
 */
function onDomain(url: URL, domain: string): boolean {
  return domain.includes(':') ? url.host === domain : url.hostname === domain;
}

/** Checks an authorize request as WeChat's page does, for the official account `appid` names; errors are the numbers WeChat shows on its error page. */
export async function checkAuthorize(q: URLSearchParams): Promise<AuthorizeCheck> {
  const appid = q.get('appid') ?? '';
  const redirectUri = q.get('redirect_uri') ?? '';
  const scope = q.get('scope') ?? '';
  const state = q.get('state') ?? '';
  if (!appid) return { ok: false, errcode: 10012, message: 'appid不能为空' };
  const merchant = await merchantByAppId(appid);
  if (!merchant) return { ok: false, errcode: 40013, message: 'invalid appid：不存在的公众号' };
  if (!redirectUri) return { ok: false, errcode: 10011, message: 'redirect_uri不能为空' };
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return { ok: false, errcode: 10003, message: 'redirect_uri参数错误' };
  }
  // The web-auth domain configured for this account: the checkout's own public origin, or the merchant's oauth_domain.
  if (!onDomain(url, merchant.oauthDomain) || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return { ok: false, errcode: 10003, message: `redirect_uri域名与后台配置不一致（应为 ${merchant.oauthDomain}）` };
  }
  if ((q.get('response_type') ?? '') !== 'code') return { ok: false, errcode: 10001, message: 'response_type必须为code' };
  if (!scope) return { ok: false, errcode: 10010, message: 'scope不能为空' };
  if (scope !== 'snsapi_base' && scope !== 'snsapi_userinfo') return { ok: false, errcode: 10005, message: '此公众号并没有这些scope的权限' };
  if (!/^[a-zA-Z0-9]{0,128}$/.test(state)) return { ok: false, errcode: 10013, message: 'state参数错误：最多128字节的a-zA-Z0-9' };
  return { ok: true, appid, redirectUri, scope, state };
}

/** Issues a code for `user` and returns where WeChat sends the browser: redirect_uri?code=CODE&state=STATE. */
export async function issueCode(check: Extract<AuthorizeCheck, { ok: true }>, user: SandboxUser): Promise<string> {
  const db = await sandboxDb();
  const openid = await ensureOpenid(db, user.id, check.appid);
  const code = newCode();
  const now = Date.now();
  await db.insertInto('sandbox_codes').values({
    code, appid: check.appid, user_id: user.id, openid, scope: check.scope,
    expires_at: nowIso(now + CODE_TTL_MS), used_at: null, created_at: nowIso(now),
  }).execute();
  const url = new URL(check.redirectUri);
  url.searchParams.set('code', code);
  url.searchParams.set('state', check.state);
  return url.toString();
}

function err(errcode: number, errmsg: string) {
  // WeChat appends a request id to errmsg: clients must match on errcode.
  return { errcode, errmsg: `${errmsg}, rid: ${randomBytes(6).toString('hex')}` };
}

/** GET /sns/oauth2/access_token: WeChat's JSON answer or {errcode, errmsg}, checked against that appid's AppSecret. Always HTTP 200, like WeChat. */
export async function exchangeCode(q: URLSearchParams): Promise<Record<string, unknown>> {
  const appid = q.get('appid') ?? '';
  const code = q.get('code') ?? '';
  const merchant = appid ? await merchantByAppId(appid) : undefined;
  if (!merchant) return err(40013, 'invalid appid');
  if ((q.get('secret') ?? '') !== merchant.appSecret) return err(40125, 'invalid appsecret');
  if ((q.get('grant_type') ?? '') !== 'authorization_code') return err(40002, 'invalid grant_type');
  if (!code) return err(41008, 'missing code');
  const db = await sandboxDb();
  const row = await db.selectFrom('sandbox_codes').selectAll().where('code', '=', code).executeTakeFirst();
  if (!row || row.appid !== appid) return err(40029, 'invalid code');
  if (row.used_at) return err(40163, 'code been used');
  if (row.expires_at <= nowIso()) return err(42003, 'code expired');
  const r = await db.updateTable('sandbox_codes').set({ used_at: nowIso() }).where('code', '=', code).where('used_at', 'is', null).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return err(40163, 'code been used');
  const user = await db.selectFrom('sandbox_users').select('snapshot').where('id', '=', row.user_id).executeTakeFirst();
  return {
    access_token: newToken('sbx_at_'),
    expires_in: 7200,
    refresh_token: newToken('sbx_rt_'),
    openid: row.openid,
    scope: row.scope,
    // Only a snapshot-page user gets the field ("正常用户不会返回 is_snapshotuser 这个字段", WeChat community).
    ...(user?.snapshot === 1 ? { is_snapshotuser: 1 } : {}),
  };
}
