import { cookies } from 'next/headers';
import { notFound } from 'next/navigation';
import { requestLocale } from '@/app/_components/locale';
import { getConfig } from '@/lib/config';
import { sandboxDb } from '@/lib/sandbox/db';
import { sandboxEnabled, USER_COOKIE } from '@/lib/sandbox/guard';
import { envMerchant, findMerchant } from '@/lib/sandbox/merchants';
import { formatYuan } from '@/lib/money';
import { findByTarget } from '@/lib/sandbox/payer';
import { currentUser, ensureOpenid } from '@/lib/sandbox/users';
import { copyFor } from '../copy';
import s from '../sandbox.module.css';

export const dynamic = 'force-dynamic';

type Props = { searchParams: Promise<{ code_url?: string; done?: string; error?: string }> };

/** "Scanning" a NATIVE code_url with the sandbox's WeChat: the order, then Pay or Cancel as the current user. */
export default async function ScanPage({ searchParams }: Props) {
  if (!sandboxEnabled()) notFound();
  const t = copyFor(await requestLocale());
  const { code_url: codeUrl = '', done, error } = await searchParams;
  const order = codeUrl ? await findByTarget({ code_url: codeUrl }) : undefined;
  const user = await currentUser((await cookies()).get(USER_COOKIE)?.value);
  // The payer's openid under the order's merchant's official account (a Native code may be any merchant's).
  const merchant = (order ? await findMerchant(order.mch_id) : undefined) ?? envMerchant();
  const openid = await ensureOpenid(await sandboxDb(), user.id, order?.appid ?? getConfig().appId);
  const outcome = done === 'SUCCESS' ? t.paid : done === 'CANCEL' ? t.cancelled : done === 'FAIL' ? t.failed : done === 'USERPAYING' ? t.userPaying : undefined;
  return (
    <main className={s.page}>
      <div className={s.card} data-testid="sandbox-scan">
        <p className={s.muted}>{t.scanTitle}</p>
        {!codeUrl && (
          <form method="get" action="/sandbox/scan">
            <input className={s.input} name="code_url" placeholder="weixin://wxpay/bizpayurl?pr=..." style={{ width: '100%' }} />
            <button className={`${s.big} ${s.primary}`}>{t.open}</button>
          </form>
        )}
        {codeUrl && !order && <p data-testid="sandbox-scan-error">{t.unknownCode}</p>}
        {order && (
          <>
            <div>{merchant.name}</div>
            <div className={s.muted}>{order.body}</div>
            <div className={s.amount}>¥{formatYuan(order.total_fee)}</div>
            <div className={s.muted}>{t.state}: <span data-testid="sandbox-scan-state">{order.state}</span> · {t.payer}: {user.name}</div>
            {outcome && <p data-testid="sandbox-scan-outcome">{outcome}</p>}
            {error && <p style={{ color: '#b42318' }} data-testid="sandbox-scan-error">{error}</p>}
            {(order.state === 'NOTPAY' || order.state === 'USERPAYING') && (
              <form method="post" action="/sandbox/scan/pay">
                <input type="hidden" name="code_url" value={codeUrl} />
                <input type="hidden" name="openid" value={openid} />
                <p className={s.muted}>
                  <label>{t.couponFee} <input className={s.input} name="coupon_fee" inputMode="numeric" placeholder="0" size={6} data-testid="sandbox-scan-coupon-fee" /></label>{' '}
                  <select className={s.input} name="coupon_type" aria-label="coupon_type" defaultValue="CASH" data-testid="sandbox-scan-coupon-type">
                    <option value="CASH">CASH</option>
                    <option value="NO_CASH">NO_CASH</option>
                  </select>
                </p>
                <button className={`${s.big} ${s.primary}`} name="result" value="SUCCESS" data-testid="sandbox-scan-pay">{t.pay}</button>
                <button className={s.big} name="result" value="FAIL">{t.fail}</button>
                <button className={s.big} name="result" value="USERPAYING" data-testid="sandbox-scan-userpaying">{t.userPaying}</button>
                <button className={s.big} name="result" value="CANCEL" data-testid="sandbox-scan-cancel">{t.cancel}</button>
              </form>
            )}
          </>
        )}
      </div>
    </main>
  );
}
