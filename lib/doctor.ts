import { MIN_ORDER_TTL_MINUTES, parseConfig } from './config';
import { v3DoctorLines } from './doctor-v3';

export interface DoctorReport {
  ok: boolean;
  lines: string[];
}

/**
 * What `npm run doctor` prints: the configuration's problems (every one, as start-up would refuse
 * them), and the exact values a merchant registers with WeChat for this deployment: the JSAPI payment
 * directory (支付授权目录, matched exactly, trailing slash included), the OAuth web-auth domain
 * (网页授权域名, host only), and the notify URLs WeChat will call.
 */
export function doctorReport(env: Record<string, string | undefined> = process.env): DoctorReport {
  const parsed = parseConfig(env);
  const mode = env.WECHAT_MODE?.trim() || 'sandbox';
  if (!parsed.ok) {
    return { ok: false, lines: [`Configuration (${mode} mode): NOT OK`, ...parsed.errors.map((e) => `  - ${e}`)] };
  }
  const c = parsed.config;
  const lines = [
    `Configuration (${c.mode} mode): OK`,
    `  database: ${c.dbKind}${c.dbKind === 'sqlite' ? ` (${c.databaseUrl})` : ''}`,
    `  WeChat Pay API: ${c.apiVersion}${c.apiVersion === 'v2' ? ` (sign type ${c.signType})` : ''}`,
    `  payment window (ORDER_TTL_MINUTES): ${c.orderTtlMinutes} min; WeChat refuses windows under 5 min, so at least ${MIN_ORDER_TTL_MINUTES} leaves a minute for clock skew`,
    '',
    'Register with WeChat (merchant platform and official account):',
    `  JSAPI payment directory (支付授权目录): ${c.publicBaseUrl}/shop/`,
    `  JSAPI payment directory for checkout sessions (a second 支付授权目录): ${c.publicBaseUrl}/pay/`,
    `  H5 payment domain (H5支付域名, for phone browsers outside WeChat; WECHATPAY_MWEB=${c.mweb}): ${new URL(c.publicBaseUrl).hostname}`,
    `  OAuth web-auth domain (网页授权域名): ${new URL(c.publicBaseUrl).host}`,
    `  Payment notify URL (sent as notify_url): ${c.publicBaseUrl}/api/wechatpay/notify`,
    `  Refund notify URL (sent with each refund): ${c.publicBaseUrl}/api/wechatpay/refund-notify`,
  ];
  const v3 = v3DoctorLines(c);
  lines.push(...v3.lines);
  lines.push(
    '',
    'Operations (docs/operations.md):',
    `  Liveness: ${c.publicBaseUrl}/api/health   Readiness: ${c.publicBaseUrl}/api/ready`,
    `  Metrics: ${c.publicBaseUrl}/api/metrics (${c.metricsToken ? 'Authorization: Bearer $METRICS_TOKEN' : c.mode === 'live' ? 'NOT served: METRICS_TOKEN is not set' : 'open: sandbox mode without METRICS_TOKEN'})`,
    `  Log level: ${c.logLevel}`,
  );
  if (c.mode === 'live' && c.apiVersion === 'v2' && !c.certP12Path) {
    lines.push('', 'Warning: WECHATPAY_CERT_P12 is not set: refunds will be refused until apiclient_cert.p12 is configured.');
  }
  if (c.mode === 'live' && !c.metricsToken) {
    lines.push('', 'Warning: METRICS_TOKEN is not set: GET /api/metrics answers 403 in live mode until it is (at least 16 characters; give it to your Prometheus as a bearer token).');
  }
  if (c.mode === 'sandbox') {
    lines.push(
      '', `Sandbox: WeChat is simulated at ${c.publicBaseUrl}/sandbox (dashboard); nothing needs registering.`,
      `  The sandbox holds JSAPI pages to these payment directories (SANDBOX_PAY_DIRECTORIES), as WeChat would:`,
      ...c.sandboxPayDirectories.map((d) => `    ${d}`),
      `  and its H5 cashier holds pages (Referer) and redirect_url to these H5 domains (SANDBOX_H5_DOMAINS):`,
      ...c.sandboxH5Domains.map((d) => `    ${d}`),
    );
  }
  return { ok: v3.ok, lines };
}
