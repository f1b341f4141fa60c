import { sandboxOff } from '@/lib/sandbox/guard';
import { html, seeOther } from '@/lib/sandbox/http';
import { WEBHOOK_SECRET_COOKIE, WEBHOOK_SECRET_RE } from '@/lib/sandbox/webhook-receiver';

export const dynamic = 'force-dynamic';

/**
 * The dashboard's "verify with this secret" form: keeps the pasted whsec_ secret in a cookie scoped to
 * /sandbox (HttpOnly), so the receiver's table can show whether each signature holds. Empty clears it.
 */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const secret = String((await req.formData()).get('secret') ?? '').trim();
  if (secret === '') return seeOther('/sandbox#webhooks', [`${WEBHOOK_SECRET_COOKIE}=; Path=/sandbox; Max-Age=0; SameSite=Lax; HttpOnly`]);
  if (!WEBHOOK_SECRET_RE.test(secret)) return html('<p>secret must be whsec_ followed by base64 (as shown when the endpoint was added)</p><p><a href="/sandbox#webhooks">back</a></p>', 400);
  return seeOther('/sandbox#webhooks', [`${WEBHOOK_SECRET_COOKIE}=${encodeURIComponent(secret)}; Path=/sandbox; Max-Age=86400; SameSite=Lax; HttpOnly`]);
}
