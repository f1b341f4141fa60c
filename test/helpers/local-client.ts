import http from 'node:http';

/**
 * An HTTP request to 127.0.0.1:`port` from the source address `from`. On Linux all of 127.0.0.0/8 is
 * loopback, so each 127.x.y.z is a distinct client as the server's socket sees it: the address the
 * app's client-IP rule uses when no proxy is trusted. Built-in fetch cannot pick a source address.
 */
export function requestFrom(
  from: string,
  port: number,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', localAddress: from, headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const headers = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
        const body = Buffer.concat(chunks);
        const status = res.statusCode!;
        resolve(new Response(body.length > 0 && status !== 204 && status !== 304 ? body : null, { status, headers }));
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** The session cookie a response set, as a `Cookie` header value. */
export function sessionCookie(r: Response): string {
  const c = r.headers.getSetCookie().find((s) => s.startsWith('wxcheckout_session='));
  if (!c) throw new Error(`no session cookie (status ${r.status})`);
  return c.split(';')[0];
}
