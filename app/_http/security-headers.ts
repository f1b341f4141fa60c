/**
 * The HSTS policy of a live checkout: one year, this host only. No includeSubDomains (the checkout
 * often runs on one host of a merchant's domain, whose other hosts it does not control) and no preload.
 */
export const HSTS_VALUE = 'max-age=31536000';

/**
 * Strict-Transport-Security for this process's configuration, or null: only in live mode with an https
 * PUBLIC_BASE_URL (lib/config refuses live mode without one, so in practice: live mode). A sandbox is
 * often reached over plain HTTP on a LAN name or localhost, which HSTS must never pin to https.
 * Reads the raw environment, not lib/config: the proxy runs apart from the app's modules.
 */
export function hstsHeader(env: Record<string, string | undefined>): string | null {
  return env.WECHAT_MODE === 'live' && (env.PUBLIC_BASE_URL ?? '').startsWith('https://') ? HSTS_VALUE : null;
}
