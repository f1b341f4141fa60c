import type { Locale } from '@/lib/i18n';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A small self-contained HTML page for route handlers that must answer with a page (OAuth errors):
 * no React tree, the same look as the app.
 */
export function htmlPage(opts: { locale: Locale; title: string; body: string; link?: { href: string; text: string }; status: number; testId?: string }): Response {
  const link = opts.link ? `<p><a class="btn" href="${esc(opts.link.href)}">${esc(opts.link.text)}</a></p>` : '';
  const html = `<!doctype html><html lang="${opts.locale === 'en' ? 'en' : 'zh-CN'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(opts.title)}</title>
<style>body{margin:0;font-family:-apple-system,BlinkMacSystemFont,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;background:#f5f5f5;color:#111}
main{max-width:720px;margin:0 auto;padding:16px}h1{font-size:22px;margin:0 0 12px}.card{background:#fff;border-radius:10px;padding:16px}
.btn{display:inline-block;background:#057a3d;color:#fff;border-radius:8px;padding:12px 20px;text-decoration:none}</style></head>
<body><main><div class="card" data-testid="${esc(opts.testId ?? 'page-message')}"><h1>${esc(opts.title)}</h1><p>${esc(opts.body)}</p>${link}</div></main></body></html>`;
  return new Response(html, {
    status: opts.status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  });
}
