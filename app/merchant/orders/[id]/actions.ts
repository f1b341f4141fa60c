'use server';

import { revalidatePath } from 'next/cache';
import { isMerchant } from '@/app/_http/merchant-session';
import { closeUnpaidOrder, syncOrder } from '@/lib/checkout/payments';
import { requestRefund } from '@/lib/checkout/refunds';
import { formatYuan, parseYuanToFen } from '@/lib/money';
import { requestLocale } from '../../../_components/locale';
import type { ActionResult } from '../../_components/types';

const DENIED: ActionResult = { ok: false, code: 'UNAUTHORIZED', message: 'merchant login required' };

/** The refund refusals a merchant meets, said in Chinese first (the detail stays as the domain wrote it). */
const ZH_REFUND_ERRORS: Record<string, string> = {
  AMOUNT_EXCEEDS: '退款金额超过剩余可退金额',
  NOT_PAID: '订单未支付，没有可退的款项',
  CERT_REQUIRED: '缺少商户 API 证书，无法退款',
  ORDER_NOT_FOUND: '订单不存在',
  USER_ACCOUNT_ABNORMAL: '买家的微信支付账户异常或已注销，无法原路退回，请用其他方式（如银行转账）退款给买家',
  RETURN_FAIL: '微信拒绝了这笔退款请求',
};

function page(orderId: string) {
  revalidatePath(`/merchant/orders/${encodeURIComponent(orderId)}`);
}

/** orderquery for every unpaid attempt and refundquery for every processing refund, then the page again. */
export async function syncOrderAction(orderId: string, _prev: ActionResult | null, _form: FormData): Promise<ActionResult> {
  if (!(await isMerchant())) return DENIED;
  const r = await syncOrder(String(orderId), 'merchant');
  page(orderId);
  if (!r.ok) return r;
  const en = (await requestLocale()) === 'en';
  return { ok: true, message: `${en ? 'Synced' : '已同步'}: ${r.notes.join('; ') || (en ? 'nothing to check' : '无需查询')}` };
}

/** Why a close did not happen, said in Chinese first; any other code is WeChat failing or not answering. */
const ZH_CLOSE_ERRORS: Record<string, string> = {
  ORDER_PAID: '买家已付款，订单已标记为已支付，未关闭',
  NOT_PENDING: '只有待支付的订单可以关闭',
  NOT_FOUND: '订单不存在',
  CLOSE_TOO_EARLY: '微信支付不允许在下单后5分钟内关单，订单仍为待支付，请稍后再试',
};

/** closeorder at WeChat for every open attempt, then the order closed (ORDERPAID: it is paid instead). */
export async function closeOrderAction(orderId: string, _prev: ActionResult | null, _form: FormData): Promise<ActionResult> {
  if (!(await isMerchant())) return DENIED;
  const r = await closeUnpaidOrder(String(orderId));
  page(orderId);
  const en = (await requestLocale()) === 'en';
  if (!r.ok) {
    if (en) return r;
    return { ok: false, code: r.code, message: `${ZH_CLOSE_ERRORS[r.code] ?? '关闭失败：没有得到微信的确认，订单仍为待支付，可以稍后再试'}（${r.message}）` };
  }
  return { ok: true, message: en ? `Order is now ${r.status}` : `订单状态：${r.status}` };
}

/** Refund all or part of the order's payment. The amount is typed in yuan and parsed to fen exactly. */
export async function refundAction(orderId: string, _prev: ActionResult | null, form: FormData): Promise<ActionResult> {
  if (!(await isMerchant())) return DENIED;
  const locale = await requestLocale();
  const en = locale === 'en';
  const amount = parseYuanToFen(String(form.get('amount') ?? ''), locale);
  if (!amount.ok) return amount;
  const reason = String(form.get('reason') ?? '').trim() || (en ? 'Merchant refund' : '商家退款');
  if (reason.length > 80) return { ok: false, code: 'BAD_REASON', message: en ? 'Reason: at most 80 characters' : '退款原因最多 80 个字' };
  const r = await requestRefund({ orderId: String(orderId), amountFen: amount.fen, reason, origin: 'merchant' });
  page(orderId);
  if (!r.ok) return { ok: false, code: r.code, message: en || !ZH_REFUND_ERRORS[r.code] ? r.message : `${ZH_REFUND_ERRORS[r.code]}（${r.message}）` };
  const yuan = formatYuan(r.refund.amount_fen);
  const no = r.refund.out_refund_no;
  const done = r.refund.status === 'succeeded';
  if (!r.confirmed) {
    // WeChat's answer was lost (or it asked to retry): the amount stays reserved and the same refund is retried.
    return {
      ok: true,
      message: en
        ? `Refund ${no} of ¥${yuan} is not confirmed by WeChat yet. It is retried automatically under the same refund number, so it is never paid out twice: do not refund again. This page updates when WeChat answers.`
        : `退款 ${no}（¥${yuan}）尚未得到微信确认。系统会用同一退款单号自动重试，不会重复退款，请勿再次退款。收到微信结果后本页自动更新。`,
    };
  }
  return {
    ok: true,
    message: en
      ? done ? `Refund ${no} of ¥${yuan} succeeded.` : `Refund ${no} of ¥${yuan} accepted by WeChat; this page updates when WeChat's refund notify says it is done.`
      : done ? `退款 ${no}（¥${yuan}）已成功。` : `退款 ${no}（¥${yuan}）已提交微信受理，收到微信退款结果通知后本页自动更新。`,
  };
}
