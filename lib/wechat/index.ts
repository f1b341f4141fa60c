/**
 * Official-account side of WeChat, framework-free: OAuth2 web authorization (oauth.ts, errors.ts) and
 * User-Agent classification (ua.ts).
 */
export * from './errors';
export * from './oauth';
export * from './ua';
