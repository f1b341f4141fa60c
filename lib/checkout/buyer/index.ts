/**
 * The buyer: the random buyer id that owns a browser's orders, how the client pays (JSAPI in WeChat,
 * a Native QR elsewhere), the buyer's IP for WeChat, and the silent snsapi_base OAuth round that gets a
 * WeChat buyer's openid. Session objects are plain values app/ reads and saves.
 */
export { buyerIp, detectClient, effectiveClientKind, ensureBuyerId, payModeFor, type ClientKind, type PayMode, type Viewer } from './identity';
export { completeOAuth, safeReturnTo, startOAuth, type OAuthOutcome, type OAuthSession } from './oauth';
