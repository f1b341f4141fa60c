import { escapeHtml } from './http';

/**
 * WeChat's own pages (consent, OAuth errors, the H5 cashier) as plain HTML: they are WeChat's UI, so
 * Chinese only. Colours meet WCAG 2 AA like the app's (app/globals.css): WeChat green darkened under
 * white text, grey no lighter than #666.
 */
function shell(title: string, inner: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{margin:0;font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#ededed;color:#111}main{max-width:420px;margin:0 auto;padding:40px 20px;text-align:center}
.card{background:#fff;border-radius:10px;padding:24px}button{display:block;width:100%;padding:12px;border:0;border-radius:8px;font-size:17px;margin-top:12px;cursor:pointer}
.ok{background:#057a3d;color:#fff}.no{background:#f2f2f2;color:#333}.muted{color:#666;font-size:13px}</style></head><body><main>${inner}</main></body></html>`;
}

export function consentPage(q: URLSearchParams, userName: string): string {
  const hidden = ['appid', 'redirect_uri', 'response_type', 'scope', 'state']
    .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(q.get(k) ?? '')}">`)
    .join('');
  return shell('微信授权', `<div class="card" data-testid="sandbox-consent"><p class="muted">微信 · 沙箱</p><h2>授权登录</h2>
<p>该网页申请获取你的昵称、头像等公开信息</p><p class="muted">当前微信用户：${escapeHtml(userName)}</p>
<form method="post" action="/sandbox/open/connect/oauth2/consent">${hidden}
<button class="ok" name="decision" value="allow" data-testid="sandbox-consent-allow">允许</button>
<button class="no" name="decision" value="deny" data-testid="sandbox-consent-deny">拒绝</button></form></div>`);
}

export function oauthErrorPage(errcode: number, message: string): string {
  return shell('微信授权', `<div class="card" data-testid="sandbox-oauth-error" data-errcode="${errcode}"><h2>${errcode ? `错误 ${errcode}` : '提示'}</h2><p>${escapeHtml(message)}</p></div>`);
}

/** What the H5 cashier shows: the order to pay, or WeChat's refusal. */
export type CashierView =
  | { kind: 'error'; code: string; message: string }
  | {
    kind: 'order'; merchantName: string; body: string; amountYuan: string; state: string;
    fields: Record<string, string>; note?: string;
  };

/**
 * The stand-in for WeChat's H5 cashier (the page mweb_url opens). Live, it hands over to the WeChat
 * app; here the buyer confirms or cancels on the page itself, and is then sent to redirect_url.
 */
export function h5CashierPage(v: CashierView): string {
  if (v.kind === 'error') {
    return shell('微信支付', `<div class="card" data-testid="sandbox-h5pay-error" data-code="${escapeHtml(v.code)}"><h2>微信支付</h2><p>${escapeHtml(v.message)}</p></div>`);
  }
  const hidden = Object.entries(v.fields).map(([k, val]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(val)}">`).join('');
  const payable = v.state === 'NOTPAY' || v.state === 'USERPAYING';
  const buttons = payable
    ? `<button class="ok" name="result" value="SUCCESS" data-testid="sandbox-h5pay-pay">确认支付</button><button class="no" name="result" value="CANCEL" data-testid="sandbox-h5pay-cancel">取消支付</button>`
    : `<button class="no" name="result" value="CANCEL" data-testid="sandbox-h5pay-cancel">返回商家</button>`;
  return shell('微信支付', `<div class="card" data-testid="sandbox-h5pay" data-state="${escapeHtml(v.state)}"><p class="muted">微信支付 · 沙箱 H5 收银台</p>
<p>${escapeHtml(v.merchantName)}</p><p class="muted">${escapeHtml(v.body)}</p><h2 data-testid="sandbox-h5pay-amount">¥${escapeHtml(v.amountYuan)}</h2>
${v.note ? `<p class="muted" data-testid="sandbox-h5pay-note">${escapeHtml(v.note)}</p>` : ''}
<form method="post" action="/sandbox/h5pay">${hidden}${buttons}</form></div>`);
}
