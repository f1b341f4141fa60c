import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// A throwaway SQLite file as the process database; set before lib/ reads its configuration.
process.env.DATABASE_URL = `file:${path.join(mkdtempSync(path.join(os.tmpdir(), 'wxrefusals-')), 'c.db')}`;

type Kernel = typeof import('@/lib/checkout/kernel/refusals');
type Events = typeof import('@/lib/checkout/kernel/events');
type Db = typeof import('@/lib/db');

/**
 * The unverified-refusal log in one process, with the clock passed in and the flush timer frozen, so the
 * allowances can be counted exactly: what is written at once, what only waits in memory, and what a
 * flush adds.
 */
describe('unverified notify refusals: aggregated, capped, flushed', () => {
  let k: Kernel;
  let ev: Events;
  let dbm: Db;
  // A fixed minute, well inside it: the per-minute allowances cannot reset mid-test.
  const now = Date.parse('2026-11-22T12:30:10.000Z');

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    k = await import('@/lib/checkout/kernel/refusals');
    ev = await import('@/lib/checkout/kernel/events');
    dbm = await import('@/lib/db');
  });
  afterAll(async () => {
    vi.useRealTimers();
    await (await dbm.getDbHandle()).close();
  });

  const hits = async (code: string) =>
    (await (await dbm.getDb()).selectFrom('refused_notifies').select('hits').where('code', '=', code).execute()).reduce((n, r) => n + Number(r.hits), 0);
  const note = (code: string, ip: string, raw: string | null = '<xml/>') =>
    k.noteUnverifiedRefusal({ source: 'notify', code, text: 'bad', raw, sender: { forwardedFor: ip } }, now);

  it('one sender: PER_SENDER_PER_MIN written at once, the rest counted in memory until the flush', async () => {
    for (let i = 0; i < 50; i++) await note('BAD_SIGN', '198.51.100.1');
    expect(await hits('BAD_SIGN')).toBe(k.PER_SENDER_PER_MIN);
    await k.flushRefusals();
    expect(await hits('BAD_SIGN')).toBe(50);
    const rows = await (await dbm.getDb()).selectFrom('refused_notifies').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ source: 'notify', code: 'BAD_SIGN', bucket: '2026-11-22T12:00:00.000Z', hits: 50, last_sender: '198.51.100.1' });
  });

  it('rotating senders: at most GLOBAL_PER_MIN writes a minute in all, then only counting', async () => {
    for (let i = 0; i < 200; i++) await note('XML_MALFORMED', `10.0.${i >> 8}.${i & 255}`);
    // The first sender already used PER_SENDER_PER_MIN of this minute's global allowance.
    expect(await hits('XML_MALFORMED')).toBe(k.GLOBAL_PER_MIN - k.PER_SENDER_PER_MIN);
    // The flush timer is armed; firing it adds the rest.
    await vi.runOnlyPendingTimersAsync();
    await vi.waitFor(async () => expect(await hits('XML_MALFORMED')).toBe(200));
  });

  it('keeps a 256-byte head of a body, on a character boundary, and folds unknown codes', async () => {
    await note('XML_EMPTY', '198.51.100.2', 'ä'.repeat(1000));
    await note('not a code; DROP TABLE', '198.51.100.3', null);
    await k.flushRefusals();
    const db = await dbm.getDb();
    const row = await db.selectFrom('refused_notifies').selectAll().where('code', '=', 'XML_EMPTY').executeTakeFirstOrThrow();
    expect(row.sample).toBe(`${'ä'.repeat(128)}[... 1744 more bytes]`);
    expect(await hits('OTHER')).toBe(1);
    expect(k.headOf('short')).toBe('short');
    expect(k.headOf('a'.repeat(300))).toBe(`${'a'.repeat(256)}[... 44 more bytes]`);
  });

  it('recordRefusal: a verified refusal is an audit event with its payload, an unverified one never is', async () => {
    const db = await dbm.getDb();
    const body = `<xml>${'x'.repeat(5000)}</xml>`;
    await ev.recordRefusal({ source: 'notify', code: 'RESULT_FAIL', text: 'result FAIL', raw: body, outTradeNo: 'P1', verified: true });
    await ev.recordRefusal({ source: 'notify', code: 'BAD_SIGN', text: 'bad sign', raw: body, outTradeNo: 'P1', verified: false, sender: { peer: '198.51.100.9' } });
    const events = await db.selectFrom('payment_events').selectAll().execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: 'notify', outcome: 'rejected', detail: 'RESULT_FAIL: result FAIL', raw: body, out_trade_no: 'P1' });
  });
});

describe('which refusals are verified: only those raised after the notify proved it is WeChat\'s', () => {
  const KEY = '192006250b4c09247ec02edce69f6a2d';
  const ids = { apiKey: KEY, appId: 'wxd930ea5d5a258f4f', mchId: '10000100' };
  it('payment notify: a bad or missing sign and junk are not; a signed body refused for its content is', async () => {
    const { readPaymentNotify } = await import('@/lib/checkout/gateway');
    const { signedPaymentNotify } = await import('../../helpers/wechatpay-fixtures');
    const verified = (raw: string) => { const r = readPaymentNotify(raw); return r.ok ? 'ok' : `${r.code}:${r.verified}`; };
    expect(verified(signedPaymentNotify({ out_trade_no: 'P1' }, { apiKey: 'x'.repeat(32) }))).toBe('BAD_SIGN:false');
    expect(verified(signedPaymentNotify({ out_trade_no: 'P1' }, { apiKey: KEY }).replace(/<sign>.*<\/sign>/, ''))).toMatch(/:false$/);
    expect(verified('not xml')).toMatch(/:false$/);
    expect(verified(signedPaymentNotify({ out_trade_no: 'P1', appid: 'wx0000000000000000' }, { apiKey: KEY }))).toBe('APPID_MISMATCH:true');
    expect(verified(signedPaymentNotify({ out_trade_no: 'P1', result_code: 'FAIL' }, { apiKey: KEY }))).toBe('RESULT_FAIL:true');
  });
  it('refund notify: req_info that does not decrypt is not; a decrypted one refused for its content is', async () => {
    const { readRefundNotify } = await import('@/lib/checkout/gateway');
    const { encryptedRefundNotify } = await import('../../helpers/wechatpay-fixtures');
    const verified = (raw: string) => { const r = readRefundNotify(raw); return r.ok ? 'ok' : `${r.code}:${r.verified}`; };
    expect(verified(encryptedRefundNotify({ refund_fee: '800' }, { ...ids, apiKey: 'y'.repeat(32) }))).toBe('DECRYPT_FAILED:false');
    expect(verified(encryptedRefundNotify({ refund_fee: '800' }, { ...ids, mchId: '19999999' }))).toBe('MCHID_MISMATCH:true');
    expect(verified(encryptedRefundNotify({ refund_fee: '800', refund_status: 'WHATEVER' as never }, ids))).toBe('BAD_FIELDS:true');
  });
});
