import { formatYuan } from '@/lib/money';
import { sandboxOff } from '@/lib/sandbox/guard';
import { cashierClientIp, cashierRefusal, findMweb, H5_ERRORS } from '@/lib/sandbox/h5';
import { html, seeOther } from '@/lib/sandbox/http';
import { envMerchant, findMerchant } from '@/lib/sandbox/merchants';
import { h5CashierPage } from '@/lib/sandbox/pages';
import { findByTarget, payOrder, unpayableReason } from '@/lib/sandbox/payer';
import type { SandboxMerchant } from '@/lib/sandbox/merchants';
import type { SandboxOrder } from '@/lib/sandbox/orders';

type Opened = { refused: string } | { order: SandboxOrder; merchant: SandboxMerchant };

export const dynamic = 'force-dynamic';

/** The mweb_url's order and its merchant, after WeChat's cashier checks; or the refusal page. */
async function open(q: { prepayId: string; pkg: string; redirectUrl: string | null; referer: string | null; userAgent: string | null; clientIp: string | null }): Promise<Opened> {
  const mweb = q.prepayId && q.pkg ? await findMweb(q.prepayId, q.pkg) : undefined;
  const order = mweb ? await findByTarget({ prepay_id: mweb.prepay_id }) : undefined;
  // An mweb_url the cashier cannot read is a parameter the merchant got wrong.
  if (!mweb || !order) return { refused: h5CashierPage({ kind: 'error', code: 'NO_REFERER', message: H5_ERRORS.NO_REFERER }) };
  const merchant = (await findMerchant(order.mch_id)) ?? envMerchant();
  const code = cashierRefusal({ userAgent: q.userAgent, referer: q.referer, redirectUrl: q.redirectUrl, issuedAt: mweb.issued_at, now: Date.now(), orderIp: mweb.client_ip, clientIp: q.clientIp }, merchant.h5Domains);
  if (code) return { refused: h5CashierPage({ kind: 'error', code, message: H5_ERRORS[code] }) };
  return { order, merchant };
}

/**
 * GET /sandbox/h5pay?prepay_id=...&package=...&redirect_url=...: WeChat's H5 cashier (the page an
 * mweb_url opens). It checks what WeChat checks (lib/sandbox/h5.ts: inside WeChat, the Referer against
 * the merchant's H5 domains, redirect_url's domain, the 5-minute life of the URL, the buyer's address
 * against the order's spbill_create_ip / payer_client_ip), then shows the order
 * with Pay and Cancel.
 */
export async function GET(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const u = new URL(req.url);
  const redirectUrl = u.searchParams.get('redirect_url');
  const referer = req.headers.get('referer');
  const r = await open({ prepayId: u.searchParams.get('prepay_id') ?? '', pkg: u.searchParams.get('package') ?? '', redirectUrl, referer, userAgent: req.headers.get('user-agent'), clientIp: cashierClientIp(req.headers) });
  if ('refused' in r) return html(r.refused);
  const why = unpayableReason(r.order);
  return html(h5CashierPage({
    kind: 'order', merchantName: r.merchant.name, body: r.order.body, amountYuan: formatYuan(r.order.total_fee), state: r.order.state,
    note: why?.message,
    // The page the buyer came from goes along: without redirect_url WeChat returns the buyer there.
    fields: { prepay_id: r.order.prepay_id, package: u.searchParams.get('package') ?? '', redirect_url: redirectUrl ?? '', back: referer ?? '' },
  }));
}

/**
 * The cashier's buttons: Pay runs the sandbox's normal payment path (trade state SUCCESS, the notify on
 * WeChat's schedule), Cancel changes nothing; either way the buyer is sent to redirect_url (else the
 * page that opened the cashier), as WeChat does after 完成 or 取消支付. The checks run again, so a
 * page left open past the URL's 5 minutes cannot pay.
 */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const form = await req.formData();
  const field = (k: string) => {
    const v = form.get(k);
    return typeof v === 'string' ? v : '';
  };
  const redirectUrl = field('redirect_url') || null;
  const back = field('back') || null;
  const r = await open({ prepayId: field('prepay_id'), pkg: field('package'), redirectUrl, referer: back, userAgent: req.headers.get('user-agent'), clientIp: cashierClientIp(req.headers) });
  if ('refused' in r) return html(r.refused);
  if (field('result') === 'SUCCESS') {
    const paid = await payOrder(r.order, 'SUCCESS');
    if (!paid.ok) return html(h5CashierPage({ kind: 'error', code: paid.code, message: paid.message }));
  }
  return seeOther(redirectUrl ?? back ?? '/sandbox');
}
