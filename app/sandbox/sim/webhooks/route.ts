import { json, sandboxOff } from '@/lib/sandbox/guard';
import { seeOther } from '@/lib/sandbox/http';
import { clearWebhookHits, listWebhookHits, WEBHOOK_SECRET_RE } from '@/lib/sandbox/webhook-receiver';

export const dynamic = 'force-dynamic';

/**
 * {hits: [...]}: what the webhook receiver got, newest first. With an `x-webhook-secret` header
 * (whsec_...) each hit's signature is checked against it.
 */
export async function GET(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const secret = req.headers.get('x-webhook-secret') ?? undefined;
  if (secret !== undefined && !WEBHOOK_SECRET_RE.test(secret)) return json({ ok: false, code: 'BAD_SECRET', message: 'x-webhook-secret must be whsec_ followed by base64' }, 400);
  return json({ hits: await listWebhookHits(undefined, secret) });
}

/** Forgets every received hit. */
export async function DELETE() {
  const off = sandboxOff();
  if (off) return off;
  await clearWebhookHits();
  return json({ ok: true });
}

/** The dashboard's Clear button (a form POST): forgets every hit, back to the dashboard. */
export async function POST() {
  const off = sandboxOff();
  if (off) return off;
  await clearWebhookHits();
  return seeOther('/sandbox#webhooks');
}
