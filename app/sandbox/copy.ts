import type { Locale } from '@/lib/i18n';

/** Dashboard and scan-page copy: Simplified Chinese by default, English when the browser prefers it. */
const zh = {
  title: '微信沙箱', subtitle: '本地模拟的微信支付与公众号授权：商户接口、买家、通知', merchant: '商户',
  browserMode: '“微信浏览器”模式', browserModeOn: '已开启：本浏览器在商城中被视为手机微信（JSAPI 支付，使用 bridge.js）', browserModeOff: '未开启：桌面浏览器使用扫码支付（NATIVE）',
  turnOn: '开启', turnOff: '关闭',
  payDirs: 'JSAPI 支付授权目录', payDirsHelp: '发起 JSAPI 支付的页面必须恰好位于其中一个目录（不含子目录）；iOS 检查页面最初加载的 URL，Android 检查当前 URL。用 SANDBOX_PAY_DIRECTORIES 修改。',
  h5: 'H5 支付', h5Help: 'H5 收银台（mweb_url）只接受来自这些 H5 支付域名（含子域名）的页面（Referer）和 redirect_url；本商户的域名用 SANDBOX_H5_DOMAINS 修改。关闭 H5 支付权限后，MWEB 下单返回 NO_AUTH。',
  h5Domains: 'H5 支付域名', h5Permission: 'H5 支付权限', h5Granted: '已开通', h5Refused: '未开通（NO_AUTH）', h5Grant: '开通', h5Revoke: '关闭',
  merchants: '商户', merchantsHelp: '沙箱按请求中的 mch_id（v3：Authorization 中的 mchid）找到商户，用它的密钥验签、签名和加密通知。不认识的 mch_id 得到 MCHID_NOT_EXIST。也可用 SANDBOX_MERCHANTS_FILE 或 POST /sandbox/sim/merchants 添加。',
  source: '来源', keys: 'v3 密钥', newMerchant: '新建商户', blankGenerated: '留空则自动生成',
  users: '模拟微信用户', name: '昵称', subscribe: '已关注', snapshotUser: '快照页用户', snapshotHint: '朋友圈快照页模式的虚拟账号：网页授权返回 is_snapshotuser=1，不能下单支付', current: '当前', switchTo: '切换', create: '新建用户', yes: '是', no: '否',
  faults: '故障注入', noFaults: '没有生效的故障', clear: '清除全部', remaining: '剩余次数',
  orders: '订单', noOrders: '还没有订单', outTradeNo: '商户订单号', type: '类型', amount: '金额', state: '状态', payment: 'prepay_id / code_url', created: '下单时间',
  deliveries: '通知投递', attempts: '次', nextRetry: '下次重试', resend: '重新发送', lastReply: '最近应答', none: '无', scan: '扫码支付',
  scanTitle: '扫码支付（沙箱）', pay: '确认支付', cancel: '取消', fail: '模拟支付失败', userPaying: '用户支付中（输入密码）', couponFee: '代金券（分）', unknownCode: '找不到这个 code_url 对应的订单', payer: '付款用户',
  paid: '支付成功', cancelled: '已取消', failed: '支付失败', codeUrl: 'code_url', open: '打开',
  requests: '被拒绝的请求', noRequests: '还没有被拒绝的请求',
  requestsNote: '线上微信只回答 return_code=FAIL（例如“签名错误”）。沙箱另外记下它期望被签名的字符串（API 密钥已打码）、它算出的签名、收到的签名，以及最可能的原因。',
  webhooks: 'Webhook 接收器', noHits: '还没有收到 webhook',
  webhooksNote: '把商户后台的 webhook 端点指向下面的地址，即可在这里看到每次签名投递的请求头和正文（类似 stripe listen）。加 ?fail_first=2 让每个事件的前两次投递得到 500、之后 200，加 ?status=503 则总是回答 503，用来观察重试。',
  secretLabel: '用于验签的密钥（whsec_…，只保存在本浏览器的 cookie 中）', verify: '验签', webhookAnswered: '应答', signature: '签名', event: '事件', headers: '请求头', body: '正文',
  sig: { valid: '签名正确', invalid: '签名不符', 'no-secret': '未提供密钥', unsigned: '无签名', 'bad-secret': '密钥无效' } as Record<string, string>, age: '时间戳早于到达',
  at: '时间', api: '接口', reason: '应答', likelyCause: '可能原因', expectedString: '期望的签名串', expectedSign: '期望的 sign', receivedSign: '收到的 sign',
  causes: {
    sign_missing: '请求中没有 sign 字段。',
    lowercase_sign: 'sign 是小写十六进制。微信的规则是把签名“所有字符转换为大写”；线上微信是否接受小写未经证实，沙箱按规则拒绝。',
    sign_type_mismatch: '签名算法与 sign_type 不一致：sign 是用另一种算法（MD5 / HMAC-SHA256）算的。没有 sign_type 时按 MD5 校验。',
    sign_type_not_signed: '签名串漏掉了 sign_type。v2 中只要发送了 sign_type，它就参与签名。',
    empty_field_included: '签名串包含了值为空的参数（例如 attach=&）。值为空的参数不参与签名。',
    url_encoded: '签名前对参数值做了 URL 编码。签名要用原始值。',
    unsigned_field_included: '签名串包含了不参与签名的字段：sign 本身，或把 key 当作参数一起排序。key 只拼接在最后（&key=…）。',
    not_sorted: '参数没有按参数名 ASCII 码从小到大排序（按发送顺序签了名）。',
    key_missing: '签名串末尾没有正确拼接 &key=API密钥。',
    key_case: 'API 密钥或 “key=” 的大小写被改动了。密钥区分大小写，原样使用。',
    wrong_key: '常见错误都无法复现收到的 sign：多半是 API 密钥不对（不是商户平台为该 mch_id 设置的 API 密钥，或误用了 APIv3 密钥）。',
  } as Record<string, string>,
};
const en: typeof zh = {
  title: 'WeChat sandbox', subtitle: 'A local WeChat Pay and official-account OAuth: merchant APIs, buyers, notifies', merchant: 'Merchant',
  browserMode: '"WeChat browser" mode', browserModeOn: 'On: the shop treats this browser as WeChat on a phone (JSAPI via bridge.js)', browserModeOff: 'Off: desktop browsers pay by QR code (NATIVE)',
  turnOn: 'Turn on', turnOff: 'Turn off',
  payDirs: 'JSAPI payment directories', payDirsHelp: 'A page calling JSAPI pay must sit exactly in one of these (not a subdirectory); iOS checks the URL the page was loaded at, Android the current URL. Change with SANDBOX_PAY_DIRECTORIES.',
  h5: 'H5 payment', h5Help: 'The H5 cashier (mweb_url) opens only from pages (Referer) and to a redirect_url on these H5 domains (subdomains included); change the checkout merchant\'s with SANDBOX_H5_DOMAINS. Without H5 permission, MWEB orders answer NO_AUTH.',
  h5Domains: 'H5 domains', h5Permission: 'H5 permission', h5Granted: 'granted', h5Refused: 'none (NO_AUTH)', h5Grant: 'Grant', h5Revoke: 'Revoke',
  merchants: 'Merchants', merchantsHelp: 'The sandbox answers each call for the merchant its mch_id (v3: the mchid in Authorization) names, with that merchant\'s keys for signatures and notifies. An unknown mch_id gets MCHID_NOT_EXIST. Add more with SANDBOX_MERCHANTS_FILE or POST /sandbox/sim/merchants.',
  source: 'Source', keys: 'v3 keys', newMerchant: 'New merchant', blankGenerated: 'blank: generated',
  users: 'Simulated WeChat users', name: 'Name', subscribe: 'Follows', snapshotUser: 'Snapshot-page user', snapshotHint: 'A virtual account on a Moments snapshot page: OAuth answers is_snapshotuser=1, and it cannot pay', current: 'current', switchTo: 'Switch', create: 'New user', yes: 'yes', no: 'no',
  faults: 'Faults', noFaults: 'No active faults', clear: 'Clear all', remaining: 'remaining',
  orders: 'Orders', noOrders: 'No orders yet', outTradeNo: 'out_trade_no', type: 'Type', amount: 'Amount', state: 'State', payment: 'prepay_id / code_url', created: 'Created',
  deliveries: 'Notify deliveries', attempts: 'attempts', nextRetry: 'next retry', resend: 'Resend', lastReply: 'last reply', none: 'none', scan: 'Scan',
  scanTitle: 'Scan to pay (sandbox)', pay: 'Pay', cancel: 'Cancel', fail: 'Simulate failure', userPaying: 'Still paying (entering the password)', couponFee: 'Coupon (fen)', unknownCode: 'No order for this code_url', payer: 'Payer',
  paid: 'Paid', cancelled: 'Cancelled', failed: 'Payment failed', codeUrl: 'code_url', open: 'Open',
  requests: 'Refused requests', noRequests: 'No refused requests',
  requestsNote: 'Live WeChat answers only return_code=FAIL (such as 签名错误, "wrong signature"). The sandbox also records the string it expected to be signed (API key masked), the sign it computed, the sign received, and the likely cause.',
  webhooks: 'Webhook receiver', noHits: 'No webhooks received yet',
  webhooksNote: "Point a webhook endpoint (merchant pages, Developers) at the URL below to see each signed delivery's headers and body here, like stripe listen. Add ?fail_first=2 to answer each event's first two deliveries 500 and later ones 200, or ?status=503 to always answer 503, and watch the retries.",
  secretLabel: 'Secret to verify with (whsec_..., kept in a cookie of this browser only)', verify: 'Verify', webhookAnswered: 'Answered', signature: 'Signature', event: 'Event', headers: 'Headers', body: 'Body',
  sig: { valid: 'signature valid', invalid: 'signature does not match', 'no-secret': 'no secret given', unsigned: 'unsigned', 'bad-secret': 'secret unusable' },
  age: 'timestamp before arrival',
  at: 'Time', api: 'API', reason: 'Answer', likelyCause: 'Likely cause', expectedString: 'Expected string to sign', expectedSign: 'Expected sign', receivedSign: 'Received sign',
  causes: {
    sign_missing: 'The request has no sign field.',
    lowercase_sign: "The sign is lower-case hex. WeChat's rule upper-cases every character of the sign; whether live WeChat accepts lower case is unverified, so the sandbox refuses it.",
    sign_type_mismatch: 'The sign was computed with the other algorithm than sign_type says (MD5 vs HMAC-SHA256). Without sign_type, WeChat checks MD5.',
    sign_type_not_signed: 'sign_type was left out of the string. In v2, sign_type is signed whenever it is sent.',
    empty_field_included: 'The string included a field with an empty value (such as attach=&). Empty values are not signed.',
    url_encoded: 'The values were URL-encoded before signing. Sign the raw values.',
    unsigned_field_included: 'The string included a field that is not signed: sign itself, or key sorted among the fields. key goes only at the end (&key=...).',
    not_sorted: 'The fields were not sorted by name in ASCII order (they were signed in the order sent).',
    key_missing: 'The string does not end with &key=<API key>.',
    key_case: 'The letter case of the API key (or of "key=") was changed. The key is case-sensitive: use it as is.',
    wrong_key: 'None of the common mistakes reproduces the received sign: most likely the API key is wrong (not the v2 key set in the merchant portal for this mch_id, or the APIv3 key).',
  },
};

/** The dashboard's strings in one language. */
export type Copy = typeof zh;
/** The copy for a locale: English for `en`, Chinese otherwise. */
export function copyFor(locale: Locale): Copy {
  return locale === 'en' ? en : zh;
}
