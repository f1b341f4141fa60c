import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskOpenid, REDACTED, registerSecrets } from '@/lib/log';

/** A logger with the app's rules writing into a string, and its lines parsed. */
function sink(level = 'debug') {
  let raw = '';
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      raw += chunk.toString('utf8');
      done();
    },
  });
  const logger = createLogger({ level, destination });
  return { logger, raw: () => raw, lines: () => raw.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('lib/log', () => {
  it('one JSON object per line: level name, ISO time, pid, msg and the fields given', () => {
    const s = sink('info');
    s.logger.info({ event: 'notify', order_id: 'O1', out_trade_no: 'T1', outcome: 'applied', duration_ms: 3.2 }, 'payment notify');
    s.logger.debug({ event: 'hidden' }, 'below the level');
    const lines = s.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', pid: process.pid, event: 'notify', order_id: 'O1', out_trade_no: 'T1', outcome: 'applied', duration_ms: 3.2, msg: 'payment notify' });
    expect(lines[0].time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('an unknown level falls back to info (LOG_LEVEL itself is refused by the configuration check)', () => {
    const s = sink('loud');
    s.logger.debug('no');
    s.logger.info('yes');
    expect(s.lines().map((l) => l.msg)).toEqual(['yes']);
  });

  it('fields named like secrets are redacted at any depth and in any case; sk_ keys under `key` too', () => {
    const s = sink();
    s.logger.info({
      apiKey: 'k-1', webhook_secret: 'whsec_abc', password: 'p', MERCHANT_PASSWORD: 'mp', token: 't', session_cookie: 'c',
      headers: { Authorization: 'Bearer sk_test_123', cookie: 'wxcheckout_session=x', 'webhook-signature': 'v1,xyz', 'content-type': 'text/xml' },
      apiKeys: [{ name: 'ci', key: 'sk_live_456' }], sign: 'ABC', nested: { deeper: { Secret: 's' } }, empty: null,
    });
    const [l] = s.lines();
    expect(l).toMatchObject({
      apiKey: REDACTED, webhook_secret: REDACTED, password: REDACTED, MERCHANT_PASSWORD: REDACTED, token: REDACTED, session_cookie: REDACTED,
      headers: { Authorization: REDACTED, cookie: REDACTED, 'webhook-signature': REDACTED, 'content-type': 'text/xml' },
      apiKeys: REDACTED, sign: REDACTED, nested: { deeper: { Secret: REDACTED } }, empty: null,
    });
    for (const v of ['k-1', 'whsec_abc', 'sk_test_123', 'sk_live_456', 'wxcheckout_session=x', 'v1,xyz']) expect(s.raw()).not.toContain(v);
  });

  it('openids are masked to their first and last four characters', () => {
    const s = sink();
    const openid = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';
    s.logger.info({ openid, buyer_openid: openid, payer: { sub_openid: openid } });
    const [l] = s.lines();
    expect(l).toMatchObject({ openid: 'oUpF…eS6o', buyer_openid: 'oUpF…eS6o', payer: { sub_openid: 'oUpF…eS6o' } });
    expect(s.raw()).not.toContain(openid);
    expect(maskOpenid('short')).toBe('…');
  });

  it('registered secret values are cut out of messages, any string field, and error messages and stacks', () => {
    const key = 'ZYXWVUTSRQPONMLKJIHGFEDCBA987654';
    registerSecrets([key, 'tiny', undefined]);
    const s = sink();
    s.logger.info({ detail: `signed with ${key}` }, `key is ${key}`);
    s.logger.error({ err: new Error(`bad key ${key}`) }, 'failed');
    s.logger.warn(`plain ${key} message`);
    expect(s.raw()).not.toContain(key);
    const [a, b, c] = s.lines();
    expect(a).toMatchObject({ detail: `signed with ${REDACTED}`, msg: `key is ${REDACTED}` });
    expect(b).toMatchObject({ level: 'error', err: { type: 'Error', message: `bad key ${REDACTED}` } });
    expect(String((b.err as { stack: string }).stack)).toContain(`bad key ${REDACTED}`);
    expect(c.msg).toBe(`plain ${REDACTED} message`);
    // Too short to register: ordinary words are not cut out of lines.
    s.logger.info('a tiny thing');
    expect(s.lines()[3].msg).toBe('a tiny thing');
  });

  it('an error keeps its own fields (a WeChat err_code), and its cause shows in the stack', () => {
    const s = sink();
    const e = Object.assign(new Error('closeorder: ORDERPAID'), { code: 'ORDERPAID' });
    s.logger.warn({ err: e }, 'x');
    s.logger.warn({ err: new Error('outer', { cause: e }) }, 'y');
    const [a, b] = s.lines();
    expect(a.err).toMatchObject({ type: 'Error', message: 'closeorder: ORDERPAID', code: 'ORDERPAID' });
    expect((b.err as { stack: string }).stack).toContain('caused by: Error: closeorder: ORDERPAID');
  });
});
