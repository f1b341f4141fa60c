import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { requestFrom } from './local-client';

/**
 * Calling a server action over real HTTP, as the browser's pay button does: POST to the page with the
 * action's id in `Next-Action` and the arguments as JSON, and read the result back out of the React
 * flight answer. The id comes from the build's server-reference manifest, so the served build is the
 * one exercised.
 */

const root = path.resolve(__dirname, '../..');

/** The id Next gave `name` exported from `file` (e.g. 'app/shop/[sku]/actions.ts') in the test build. */
export function actionId(file: string, name: string): string {
  const manifest = JSON.parse(readFileSync(path.join(root, inject('distDir'), 'server/server-reference-manifest.json'), 'utf8')) as {
    node: Record<string, { filename?: string; exportedName?: string }>;
  };
  const hit = Object.entries(manifest.node).find(([, v]) => v.filename === file && v.exportedName === name);
  if (!hit) throw new Error(`no server action ${name} in ${file}`);
  return hit[0];
}

/** The action's answer, the session cookie it set (if any), and the HTTP status. */
export interface ActionAnswer<T> {
  status: number;
  result: T;
  cookie: string | null;
}

/**
 * POSTs one server action call to `pagePath`; `headers` may carry a cookie or Accept-Language. `from`
 * sends it from that loopback source address (127.x.y.z), which is the client address the app sees.
 */
export async function callAction<T>(baseUrl: string, pagePath: string, id: string, args: unknown[], headers: Record<string, string> = {}, from?: string): Promise<ActionAnswer<T>> {
  const init = {
    method: 'POST',
    headers: { 'next-action': id, 'content-type': 'text/plain;charset=UTF-8', accept: 'text/x-component', ...headers },
    body: JSON.stringify(args),
  };
  const r = from ? await requestFrom(from, Number(new URL(baseUrl).port), pagePath, init) : await fetch(`${baseUrl}${pagePath}`, init);
  const text = await r.text();
  // Flight rows are `<hex id>:<payload>`; row 0 points at the action's result as "$@<row>".
  const rows = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+):(.*)$/.exec(line);
    if (m) rows.set(m[1], m[2]);
  }
  const head = rows.get('0');
  if (r.status !== 200 || !head) throw new Error(`action answered ${r.status}: ${text.slice(0, 500)}`);
  const ref = (JSON.parse(head) as { a?: unknown }).a;
  const result = typeof ref === 'string' && ref.startsWith('$@') ? JSON.parse(rows.get(ref.slice(2)) ?? 'null') : ref;
  const set = r.headers.getSetCookie().find((c) => c.startsWith('wxcheckout_session='));
  return { status: r.status, result: result as T, cookie: set ? set.split(';')[0] : null };
}
