'use client';
import type { CheckoutCopy } from './checkout-copy';

/**
 * The H5 return page's controls, shown while the order is still unpaid. WeChat's cashier sends the
 * buyer back (redirect_url) when they pay, cancel, or merely 5 seconds after WeChat opened, so arriving
 * here proves nothing: "无法保证页面回跳时，支付流程已结束，所以商户设置的redirect_url地址不能自动执行查单操作，
 * 应让用户去点击按钮触发查单操作" (the H5 payment guide, https://pay.weixin.qq.com/wiki/doc/api/H5.php?chapter=15_4).
 * The page asks the server (its poll confirms with WeChat, rate-limited per order) and says
 * "checking" until a check made after the buyer came back has answered (`checked`); then "not paid
 * yet" with Pay again (a form: straight back to WeChat's cashier, scripts or not) and "I have paid,
 * check again" (asks the server again; without scripts, a link that makes the page check).
 */
export function H5Return(props: {
  checked: boolean;
  copy: CheckoutCopy;
  /** The page with `&check=1`: the server checks with WeChat before rendering it. */
  checkHref: string;
  /** With scripts: re-poll now instead of reloading. */
  onCheck: () => void;
  payAgain: { action: (form: FormData) => Promise<void>; fields: Record<string, string> } | null;
}) {
  const { copy: c } = props;
  const controls = (
    <>
      {props.payAgain && (
        <form action={props.payAgain.action} style={{ display: 'inline' }}>
          {Object.entries(props.payAgain.fields).map(([k, v]) => <input key={k} type="hidden" name={k} value={v} />)}
          <button type="submit" className="btn" data-testid="h5-pay-again">{c.h5PayAgain}</button>
        </form>
      )}{' '}
      <a
        href={props.checkHref}
        data-testid="h5-check-again"
        onClick={(e) => {
          e.preventDefault();
          props.onCheck();
        }}
      >
        {c.h5CheckAgain}
      </a>
    </>
  );
  return (
    <div data-testid="h5-return" data-state={props.checked ? 'not-paid' : 'checking'}>
      {props.checked ? (
        <>
          <p data-testid="h5-not-paid" className="muted">{c.h5NotPaid}</p>
          <p>{controls}</p>
        </>
      ) : (
        <>
          <p data-testid="h5-checking" className="muted">{c.h5Checking}</p>
          {/* Without scripts nothing polls: let the buyer make the page check. */}
          <noscript>
            <p><a href={props.checkHref}>{c.h5CheckAgain}</a></p>
          </noscript>
        </>
      )}
    </div>
  );
}
