import type { Locale } from '@/lib/i18n';

/** Copy of the merchant's Webhooks section and the order page's delivery list: Simplified Chinese, or English. */
const zh = {
  title: 'Webhooks',
  intro: '事件发生时（会话已支付、已过期、已关闭，退款成功或失败，重复支付）向你的服务器发送签名的 POST 请求（Standard Webhooks 签名）。失败按微信通知的间隔重试，约 24 小时内共 16 次。',
  url: '接收地址（URL）',
  events: '订阅事件（不选即全部）',
  allEvents: '全部事件',
  add: '添加端点',
  added: '已添加端点',
  secretOnce: '签名密钥只显示这一次，请立即复制保存：',
  roll: '更换密钥',
  rolled: '已更换密钥，旧密钥立即失效。新密钥：',
  confirmRoll: '更换后旧密钥立即失效，确定？',
  del: '删除',
  deleted: '已删除端点',
  confirmDelete: '删除此端点？未送达的投递将停止。',
  none: '还没有 webhook 端点。',
  deliveries: '投递记录',
  noDeliveries: '暂无投递。',
  status: '状态',
  event: '事件',
  code: '响应码',
  attempts: '尝试次数',
  nextRetry: '下次重试',
  created: '时间',
  resend: '重新发送',
  resent: '已安排重新发送',
  attemptLog: '每次尝试',
  statusNames: { pending: '待投递', delivered: '已送达', failed: '失败' } as Record<string, string>,
  orderDeliveries: 'Webhook 投递',
  docs: '事件、签名验证和重试说明见 docs/webhooks.md。',
};

type WebhooksCopy = typeof zh;

const en: WebhooksCopy = {
  title: 'Webhooks',
  intro: 'Signed POSTs (Standard Webhooks) to your server when something happens: a session paid, expired or closed, a refund succeeded or failed, a duplicate payment. Failures are retried on WeChat\'s notify schedule, 16 attempts over about 24 hours.',
  url: 'Endpoint URL',
  events: 'Events (none checked = all)',
  allEvents: 'all events',
  add: 'Add endpoint',
  added: 'Endpoint added',
  secretOnce: 'The signing secret is shown this once; copy it now:',
  roll: 'Roll secret',
  rolled: 'Secret rolled; the old one stopped working. New secret:',
  confirmRoll: 'The old secret stops working at once. Roll it?',
  del: 'Delete',
  deleted: 'Endpoint deleted',
  confirmDelete: 'Delete this endpoint? Deliveries not yet made to it stop.',
  none: 'No webhook endpoints yet.',
  deliveries: 'Deliveries',
  noDeliveries: 'No deliveries yet.',
  status: 'Status',
  event: 'Event',
  code: 'Response',
  attempts: 'Attempts',
  nextRetry: 'Next retry',
  created: 'At',
  resend: 'Resend',
  resent: 'Resend scheduled',
  attemptLog: 'attempts',
  statusNames: { pending: 'pending', delivered: 'delivered', failed: 'failed' },
  orderDeliveries: 'Webhook deliveries',
  docs: 'Events, verifying signatures and retries: docs/webhooks.md.',
};

/** The copy for this locale. */
export function webhooksCopy(locale: Locale): WebhooksCopy {
  return locale === 'en' ? en : zh;
}
/** The strings of one language. */
export type { WebhooksCopy };
