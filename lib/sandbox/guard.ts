import { getConfig } from '../config';

/** The sandbox serves only in sandbox mode; in live mode every /sandbox route is a plain 404. */
export function sandboxEnabled(): boolean {
  try {
    return getConfig().mode === 'sandbox';
  } catch {
    return false;
  }
}

/** For route handlers: a 404 Response when the sandbox is off, else null. */
export function sandboxOff(): Response | null {
  return sandboxEnabled() ? null : new Response('Not Found', { status: 404, headers: { 'content-type': 'text/plain' } });
}

export function json(data: unknown, status = 200): Response {
  return Response.json(data, { status, headers: { 'cache-control': 'no-store' } });
}

export const USER_COOKIE = 'sandbox_user';
export const WECHAT_BROWSER_COOKIE = 'sandbox_wechat_browser';

/** Reads one cookie from a request's Cookie header. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.get('cookie') ?? '';
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

/** The simulated WeChat user's cookie: scoped to /sandbox, so only the sandbox (WeChat) ever sees it. */
export function userCookie(userId: string): string {
  return `${USER_COOKIE}=${encodeURIComponent(userId)}; Path=/sandbox; Max-Age=31536000; SameSite=Lax; HttpOnly`;
}
