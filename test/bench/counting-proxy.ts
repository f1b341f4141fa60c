import { fork } from 'node:child_process';
import path from 'node:path';

/** One WeChat Pay call that went through the proxy to the sandbox. */
export interface ProxyHit {
  /** Epoch milliseconds (sub-ms) when the call reached the proxy. */
  at: number;
  /** The last path segment: unifiedorder, orderquery, closeorder, refund, ... */
  api: string;
  outTradeNo: string | null;
  /** nonce_str: a retry of the WeChat Pay client resends the very same body, so it repeats the nonce. */
  nonce: string | null;
  /** How long the sandbox took to answer in full, or null if it had not yet. */
  ms: number | null;
  status: number | null;
  /** The caller closed its connection before the answer was sent (its timeout). */
  clientGone: boolean;
}

/**
 * A pass-through HTTP proxy in front of the sandbox's WeChat Pay API that records every call, in a
 * process of its own (./counting-proxy-child.ts). The app is started with SANDBOX_MCH_BASE_URL
 * pointing here (a setting lib/config already reads), so the bench counts the orderqueries that
 * really reached "WeChat" without the sandbox or lib/ logging them. `target` is the sandbox's base,
 * e.g. http://127.0.0.1:PORT/sandbox/mch.
 */
export async function startCountingProxy(target: string): Promise<{ url: string; hits: () => Promise<ProxyHit[]>; close: () => Promise<void> }> {
  const child = fork(path.join(__dirname, 'counting-proxy-child.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, PROXY_TARGET: target },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`counting proxy exited ${code}`)));
    child.once('message', (m: { type: string; port: number }) => resolve(m.port));
  });
  child.removeAllListeners('exit');
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => new Promise((resolve) => {
      const on = (m: { type: string; hits: ProxyHit[] }) => {
        if (m.type !== 'hits') return;
        child.off('message', on);
        resolve(m.hits);
      };
      child.on('message', on);
      child.send({ type: 'dump' });
    }),
    close: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.disconnect();
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }),
  };
}
