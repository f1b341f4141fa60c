import type { Locale } from '@/lib/i18n';

/** Dashboard and scan-page copy: Simplified Chinese by default, English when the browser prefers it. */
const zh = {
  title: '微信沙箱', subtitle: '本地模拟的微信支付与公众号授权：商户接口、买家、通知', merchant: '商户',
  browserMode: '“微信浏览器”模式', browserModeOn: '已开启：本浏览器在商城中被视为手机微信（JSAPI 支付，使用 bridge.js）', browserModeOff: '未开启：桌面浏览器使用扫码支付（NATIVE）',
  turnOn: '开启', turnOff: '关闭',
  users: '模拟微信用户', name: '昵称', subscribe: '已关注', current: '当前', switchTo: '切换', create: '新建用户', yes: '是', no: '否',
  faults: '故障注入', noFaults: '没有生效的故障', clear: '清除全部', remaining: '剩余次数',
  orders: '订单', noOrders: '还没有订单', outTradeNo: '商户订单号', type: '类型', amount: '金额', state: '状态', payment: 'prepay_id / code_url', created: '下单时间',
  deliveries: '通知投递', attempts: '次', nextRetry: '下次重试', resend: '重新发送', lastReply: '最近应答', none: '无', scan: '扫码支付',
  scanTitle: '扫码支付（沙箱）', pay: '确认支付', cancel: '取消', fail: '模拟支付失败', unknownCode: '找不到这个 code_url 对应的订单', payer: '付款用户',
  paid: '支付成功', cancelled: '已取消', failed: '支付失败', codeUrl: 'code_url', open: '打开',
};
const en: typeof zh = {
  title: 'WeChat sandbox', subtitle: 'A local WeChat Pay and official-account OAuth: merchant APIs, buyers, notifies', merchant: 'Merchant',
  browserMode: '"WeChat browser" mode', browserModeOn: 'On: the shop treats this browser as WeChat on a phone (JSAPI via bridge.js)', browserModeOff: 'Off: desktop browsers pay by QR code (NATIVE)',
  turnOn: 'Turn on', turnOff: 'Turn off',
  users: 'Simulated WeChat users', name: 'Name', subscribe: 'Follows', current: 'current', switchTo: 'Switch', create: 'New user', yes: 'yes', no: 'no',
  faults: 'Faults', noFaults: 'No active faults', clear: 'Clear all', remaining: 'remaining',
  orders: 'Orders', noOrders: 'No orders yet', outTradeNo: 'out_trade_no', type: 'Type', amount: 'Amount', state: 'State', payment: 'prepay_id / code_url', created: 'Created',
  deliveries: 'Notify deliveries', attempts: 'attempts', nextRetry: 'next retry', resend: 'Resend', lastReply: 'last reply', none: 'none', scan: 'Scan',
  scanTitle: 'Scan to pay (sandbox)', pay: 'Pay', cancel: 'Cancel', fail: 'Simulate failure', unknownCode: 'No order for this code_url', payer: 'Payer',
  paid: 'Paid', cancelled: 'Cancelled', failed: 'Payment failed', codeUrl: 'code_url', open: 'Open',
};

export type Copy = typeof zh;
export function copyFor(locale: Locale): Copy {
  return locale === 'en' ? en : zh;
}
