import { serveMch } from '@/lib/sandbox/http';

/**
 * https://api.mch.weixin.qq.com/secapi/pay/refund. The real one requires the merchant's client
 * certificate (mutual TLS); behind plain-HTTP `next start` there is no client certificate to check, so
 * the sandbox verifies the signature only. Live mode still needs WECHATPAY_CERT_P12.
 */
export async function POST(req: Request) {
  return serveMch('refund', req);
}

export async function GET(req: Request) {
  return serveMch('refund', req);
}
