import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One POST the receiver got: when (this process's clock), on which path, the headers and the raw body. */
export interface Hit {
  at: number;
  path: string;
  id: string;
  headers: Record<string, string>;
  body: string;
  /** What the receiver answered. */
  status: number;
}

/** How the receiver answers the nth (1-based) hit of one event id on one path; may wait first. */
export type Answer = (n: number, hit: Omit<Hit, 'status'>) => number | Promise<number>;

/** A running receiver and what it got. */
export interface Receiver {
  /** http://127.0.0.1:PORT */
  base: string;
  hits: Hit[];
  /** Hits of one event id (webhook-id), optionally on one path, in arrival order. */
  hitsFor(id: string, path?: string): Hit[];
  /** Sets how `path` answers (default 200). */
  answer(path: string, fn: Answer): void;
  close(): Promise<void>;
}

/**
 * A merchant's webhook receiver as a plain node:http server on 127.0.0.1: records every hit and answers
 * per path (200 unless told otherwise), so a test can count hits per event id and time the retries.
 */
export async function startReceiver(): Promise<Receiver> {
  const hits: Hit[] = [];
  const answers = new Map<string, Answer>();
  const count = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const path = (req.url ?? '/').split('?')[0];
      const hit = { at, path, id: headers['webhook-id'] ?? '', headers, body: Buffer.concat(chunks).toString('utf8') };
      const key = `${path} ${hit.id}`;
      const n = (count.get(key) ?? 0) + 1;
      count.set(key, n);
      const status = await (answers.get(path) ?? (() => 200))(n, hit);
      hits.push({ ...hit, status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? `ok ${n}` : `nope ${n}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    hits,
    hitsFor: (id, path) => hits.filter((h) => h.id === id && (path === undefined || h.path === path)),
    answer: (path, fn) => answers.set(path, fn),
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** The app's webhook settings in the webhook suites: retries 100x faster (15 s -> 150 ms), and a poll too slow to explain a prompt delivery. */
export const WEBHOOK_ENV = { WEBHOOK_TIME_SCALE: '100', WEBHOOK_POLL_MS: '60000', RECONCILE_INTERVAL_MS: '0', SESSION_SECRET: 'webhooks-test-session-secret-0123456789' };

/** Logs in as the sandbox merchant and returns the session cookie. */
export async function merchantCookie(baseUrl: string): Promise<string> {
  const r = await fetch(`${baseUrl}/api/merchant/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'sandbox' }) });
  if (r.status !== 200) throw new Error(`login answered ${r.status}`);
  return r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}
