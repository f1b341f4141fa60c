import { NextResponse } from 'next/server';
import { hstsHeader } from './app/_http/security-headers';

/**
 * Next 16's proxy (formerly middleware), Node.js runtime, run per request by `next start`: it adds
 * Strict-Transport-Security in live mode. That header depends on the runtime configuration, which
 * next.config.js `headers()` cannot see (it is fixed at build time, and one build serves either mode);
 * the fixed security headers live there.
 */
export function proxy(): NextResponse {
  const res = NextResponse.next();
  const hsts = hstsHeader(process.env);
  if (hsts) res.headers.set('Strict-Transport-Security', hsts);
  return res;
}

export const config = {
  // Not on routes that read a request body with their own cap (WeChat's notifies, the merchant login,
  // the server-to-server API): a proxy makes Next buffer each body (up to 10 MB) before the route's cap
  // reads it, so a never-ending body would hang the request; their clients are servers and scripts,
  // for which HSTS means nothing (browsers learn it from the pages). Not on build assets: every page
  // that loads them already carried the header.
  matcher: ['/((?!api/wechatpay/|api/merchant/session|api/v1/|_next/static/|_next/image).*)'],
};
