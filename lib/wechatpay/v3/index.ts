/**
 * WeChat Pay API v3, framework-free: request signing, response and notify verification against a
 * serial -> key map (public key, platform certificates, or both), AES-256-GCM resources, the client,
 * JSAPI paySign with signType RSA. Facts: docs/wechatpay-v3.md.
 */
export { decryptResource, encryptResource, checkApiV3Key, type WxEncryptedResource } from './aead';
export { PlatformCertificates, readCertificateEntries, type PlatformCertificate } from './certificates';
export { WechatPayV3Client, type WechatPayV3ClientOptions } from './client';
export { WechatPayV3ApiError, v3ErrorFrom } from './errors';
export { jsapiMessage, jsapiParamsV3, verifyJsapiParamsV3 } from './jsapi';
export { CombinedKeys, loadPublicKey, PUBLIC_KEY_ID, StaticKeys, type WechatPayKeys } from './keys';
export { looksLikeV3Notify, parseV3Notify, v3NotifyFailBody, type V3Notify } from './notify';
export { authorizationHeader, AUTH_SCHEME, loadPrivateKey, parseAuthorization, requestMessage, rsaSign, signRequest, v3Nonce, type AuthorizationParts } from './sign';
export { formatRfc3339Cst, parseRfc3339 } from './time';
export type * from './types';
export { MAX_SKEW_S, responseMessage, signatureHeaders, SIGNTEST_PREFIX, verifyWechatpaySignature, type WechatpaySignatureHeaders } from './verify';
