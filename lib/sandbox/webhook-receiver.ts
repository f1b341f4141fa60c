import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { sandboxDb } from './db';
import type { SandboxWebhookHitsTable } from './schema';

/*
 * The sandbox's webhook receiver, like `stripe listen`: point a webhook endpoint at
 * /sandbox/webhooks/receive and watch the signed deliveries arrive on /sandbox. It answers 200, or a
 * failure asked for in the endpoint URL's query (?status=503 always; ?fail_first=2 the first two hits of
 * each webhook-id, then 200) to watch retries. It knows nothing of the checkout (lib/sandbox never
 * imports it): a signature is checked only against a secret the developer pastes on the dashboard,
 * with the same standardwebhooks library a merchant's receiver would use.
 */

/** Hits kept; older ones are deleted as new ones arrive. */
export const WEBHOOK_HITS_KEPT = 200;
/** Bodies over this are refused (413) unread; a webhook body is a few KB. */
export const RECEIVER_MAX_BYTES = 256 * 1024;
/** How much of a body is kept. */
const BODY_KEPT = 64 * 1024;
/** The dashboard's cookie holding the pasted secret (Path=/sandbox, HttpOnly). */
export const WEBHOOK_SECRET_COOKIE = 'sandbox_whsec';
/** What a pasted secret must look like: Standard Webhooks' whsec_ + base64. */
export const WEBHOOK_SECRET_RE = /^whsec_[A-Za-z0-9+/]{16,172}={0,2}$/;

/** The status the receiver will answer, from the endpoint URL's query; or why the query is wrong. */
export function receiverPlan(query: URLSearchParams): { ok: true; status: number | null; failFirst: number } | { ok: false; message: string } {
  const statusRaw = query.get('status');
  const failRaw = query.get('fail_first');
  const status = statusRaw === null ? null : Number(statusRaw);
  if (status !== null && !(Number.isInteger(status) && status >= 200 && status <= 599)) return { ok: false, message: `status must be an HTTP status from 200 to 599, got "${statusRaw}"` };
  const failFirst = failRaw === null ? 0 : Number(failRaw);
  if (!(Number.isInteger(failFirst) && failFirst >= 0 && failFirst <= 100)) return { ok: false, message: `fail_first must be an integer from 0 to 100, got "${failRaw}"` };
  return { ok: true, status, failFirst };
}

/**
 * Stores one delivery and says what to answer: `status` alone is answered every time; with
 * `fail_first=N` the first N hits of a webhook-id get `status` (default 500) and later ones 200.
 */
export async function receiveWebhook(input: { headers: Record<string, string>; body: string; query: URLSearchParams }): Promise<{ status: number; body: string }> {
  const plan = receiverPlan(input.query);
  if (!plan.ok) return { status: 400, body: JSON.stringify({ error: plan.message }) };
  const db = await sandboxDb();
  const webhookId = input.headers['webhook-id']?.slice(0, 200) ?? null;
  let answered = plan.status ?? 200;
  if (plan.failFirst > 0) {
    const seen = webhookId === null ? 0 : Number((await db.selectFrom('sandbox_webhook_hits').select((eb) => eb.fn.countAll<number>().as('n')).where('webhook_id', '=', webhookId).executeTakeFirstOrThrow()).n);
    answered = seen < plan.failFirst ? (plan.status ?? 500) : 200;
  }
  const now = Date.now();
  await db.insertInto('sandbox_webhook_hits').values({
    id: `${String(now).padStart(15, '0')}_${randomBytes(6).toString('hex')}`, at: new Date(now).toISOString(), webhook_id: webhookId,
    headers: JSON.stringify(input.headers), body: input.body.slice(0, BODY_KEPT), query: input.query.toString(), answered,
  }).execute();
  await db.deleteFrom('sandbox_webhook_hits')
    .where('id', '<', (eb) => eb.selectFrom('sandbox_webhook_hits').select('id').orderBy('id', 'desc').limit(1).offset(WEBHOOK_HITS_KEPT - 1))
    .execute();
  return { status: answered, body: JSON.stringify({ received: true, answered }) };
}

/** Whether a hit's signature holds with the pasted secret, and how old its timestamp was on arrival. */
export type SignatureCheck =
  | { state: 'no-secret' }
  | { state: 'unsigned' }
  | { state: 'bad-secret'; message: string }
  | { state: 'valid' | 'invalid'; ageSeconds: number };

/**
 * Checks webhook-signature against `secret`: the library signs `{id}.{timestamp}.{body}` and any of the
 * header's space-separated v1 signatures must match. The 5-minute timestamp tolerance a live receiver
 * enforces (Webhook.verify) is reported as the age instead: a hit looked at an hour later is still
 * judged on its signature.
 */
export function checkSignature(hit: Pick<SandboxWebhookHitsTable, 'headers' | 'body' | 'at'>, secret: string | undefined): SignatureCheck {
  if (!secret) return { state: 'no-secret' };
  const h = JSON.parse(hit.headers) as Record<string, string>;
  const id = h['webhook-id'];
  const ts = Number(h['webhook-timestamp']);
  const sigs = (h['webhook-signature'] ?? '').split(' ').filter((s) => s.startsWith('v1,'));
  if (!id || !Number.isInteger(ts) || sigs.length === 0) return { state: 'unsigned' };
  let expected: string;
  try {
    expected = new Webhook(secret).sign(id, new Date(ts * 1000), hit.body);
  } catch (e) {
    return { state: 'bad-secret', message: (e as Error).message };
  }
  const ageSeconds = Math.round(Date.parse(hit.at) / 1000 - ts);
  return { state: sigs.includes(expected) ? 'valid' : 'invalid', ageSeconds };
}

/** One received delivery for the dashboard and GET /sandbox/sim/webhooks. */
export interface WebhookHitView {
  id: string;
  at: string;
  webhook_id: string | null;
  /** The body's `type`, when it is a JSON object with one. */
  type: string | null;
  headers: Record<string, string>;
  body: string;
  query: string;
  answered: number;
  signature: SignatureCheck;
}

/** The newest hits first, each checked against `secret` when one is given. */
export async function listWebhookHits(limit = WEBHOOK_HITS_KEPT, secret?: string): Promise<WebhookHitView[]> {
  const db = await sandboxDb();
  const rows = await db.selectFrom('sandbox_webhook_hits').selectAll().orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => {
    let type: string | null = null;
    try {
      const parsed = JSON.parse(r.body) as { type?: unknown };
      type = typeof parsed?.type === 'string' ? parsed.type : null;
    } catch {
      /* not JSON: shown as received */
    }
    return { id: r.id, at: r.at, webhook_id: r.webhook_id, type, headers: JSON.parse(r.headers) as Record<string, string>, body: r.body, query: r.query, answered: r.answered, signature: checkSignature(r, secret) };
  });
}

/** Forgets every received hit (the dashboard's Clear). */
export async function clearWebhookHits(): Promise<void> {
  const db = await sandboxDb();
  await db.deleteFrom('sandbox_webhook_hits').execute();
}
