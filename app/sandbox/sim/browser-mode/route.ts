import { sandboxOff, WECHAT_BROWSER_COOKIE } from '@/lib/sandbox/guard';
import { seeOther } from '@/lib/sandbox/http';

/**
 * Dashboard toggle: cookie sandbox_wechat_browser=1 (path /) tells the app, in sandbox mode only, to treat
 * this desktop browser as WeChat on a phone, so a developer can try the JSAPI flow with bridge.js.
 */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const on = (await req.formData()).get('on') === '1';
  const cookie = on
    ? `${WECHAT_BROWSER_COOKIE}=1; Path=/; Max-Age=31536000; SameSite=Lax`
    : `${WECHAT_BROWSER_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax`;
  return seeOther('/sandbox', [cookie]);
}
