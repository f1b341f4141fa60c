import { json, sandboxOff } from '@/lib/sandbox/guard';
import { exchangeCode } from '@/lib/sandbox/oauth';

/** https://api.weixin.qq.com/sns/oauth2/access_token: JSON, errors as {errcode, errmsg} with HTTP 200. */
export async function GET(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  return json(await exchangeCode(new URL(req.url).searchParams));
}
