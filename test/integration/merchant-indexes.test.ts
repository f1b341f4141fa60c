import { CompiledQuery, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, initDb } from '@/lib/db';
import type { Database, OrderStatus } from '@/lib/db/schema';
import { csvLine, UTF8_BOM } from '@/lib/checkout/merchant';
import {
  decodeCursor, findOrderIdsFor, listOrders, listQueries, parseOrderQuery, todayQuery, todayTotals,
} from '@/lib/checkout/merchant/list';
import { chinaDate, chinaDayBounds } from '@/lib/china-time';
import { ENGINES, freshDatabaseUrl } from '../helpers/db';

const N = 10_000;
const STATUSES: OrderStatus[] = ['pending', 'paid', 'closed', 'partially_refunded', 'refunded'];
const NOW = Date.parse('2026-11-22T12:00:00.000Z');

/** 10,000 orders over 100 days, each with one attempt; some pairs share a created_at (the id breaks the tie). */
async function seed(db: Kysely<Database>) {
  const orders = [];
  const attempts = [];
  for (let i = 0; i < N; i++) {
    const status = STATUSES[i % STATUSES.length];
    const paid = status !== 'pending' && status !== 'closed';
    const createdMs = NOW - (i % 7 === 1 ? i - 1 : i) * 864_000;
    const created = new Date(createdMs).toISOString();
    const id = `o_seed${String(i).padStart(5, '0')}`;
    orders.push({
      id, sku: 'green-tea', name: '明前龙井 50g', quantity: 1, amount_fen: 100 + i, status,
      buyer_openid: `oBuyer${i % 2000}`, buyer_id: `b${i}`, transaction_id: paid ? `4200${String(i).padStart(10, '0')}` : null,
      refunded_fen: status === 'refunded' ? 100 + i : status === 'partially_refunded' ? 50 : 0,
      created_at: created, paid_at: paid ? new Date(createdMs + 60_000).toISOString() : null, updated_at: created,
    });
    attempts.push({
      out_trade_no: `P2026SEED${String(i).padStart(6, '0')}`, order_id: id, trade_type: 'NATIVE' as const, amount_fen: 100 + i,
      sign_type: 'MD5', expires_at: created, status: paid ? ('paid' as const) : ('closed' as const),
      transaction_id: paid ? `4200${String(i).padStart(10, '0')}` : null, created_at: created, updated_at: created,
    });
  }
  for (let i = 0; i < N; i += 500) {
    await db.insertInto('orders').values(orders.slice(i, i + 500)).execute();
    await db.insertInto('payment_attempts').values(attempts.slice(i, i + 500)).execute();
  }
}

describe.each(ENGINES)('merchant order queries on %s with 10,000 orders', (engine) => {
  let h: DbHandle;
  beforeAll(async () => {
    h = await initDb(await freshDatabaseUrl(engine));
    await seed(h.db);
    await h.db.executeQuery(CompiledQuery.raw('ANALYZE'));
  });
  afterAll(async () => h?.close());

  async function plan(q: { compile(): CompiledQuery }): Promise<string> {
    const c = q.compile();
    const prefix = engine === 'sqlite' ? 'EXPLAIN QUERY PLAN ' : 'EXPLAIN ';
    const r = await h.db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(prefix + c.sql, [...c.parameters]));
    return r.rows.map((row) => String(engine === 'sqlite' ? row.detail : row['QUERY PLAN'])).join('\n');
  }

  /** No full scan of orders (nor of attempts), and pages come out of the index already ordered. */
  function expectIndexed(p: string, ordered = true) {
    if (engine === 'sqlite') {
      expect(p).not.toMatch(/SCAN (orders|payment_attempts)(?! USING)/);
      if (ordered) expect(p).not.toContain('TEMP B-TREE');
    } else {
      expect(p).not.toMatch(/Seq Scan on (orders|payment_attempts)/);
    }
  }

  const cursorOf = async (filter = {}) => decodeCursor((await listOrders(filter, undefined, 50, h.db)).nextCursor!)!;

  it('first page, later pages, status filter and date range read orders through an index', async () => {
    const cursor = await cursorOf();
    const cases: Array<[string, string]> = [];
    for (const [name, filter, cur] of [
      ['first page', {}, undefined],
      ['next page', {}, cursor],
      ['status', { status: 'paid' }, undefined],
      ['status next page', { status: 'refunded' }, cursor],
      ['date range', { from: '2026-10-01', to: '2026-10-31' }, undefined],
      ['status and date', { status: 'pending', from: '2026-10-01', to: '2026-10-31' }, cursor],
    ] as const) {
      const [q] = listQueries(h.db, filter, cur, 50);
      const p = await plan(q);
      cases.push([name, p]);
      expectIndexed(p);
      expect(p, name).toMatch(engine === 'sqlite' ? /USING (COVERING )?INDEX orders_(status_)?created_idx/ : /Index Scan( Backward)? using orders_(status_)?created_idx/);
    }
    console.log(`[${engine}] plans:\n${cases.map(([n, p]) => `  ${n}: ${p.replace(/\n/g, ' | ')}`).join('\n')}`);
  });

  it('each search kind is point lookups: order id, out_trade_no, transaction_id, openid', async () => {
    const q = 'x';
    const lookups = [
      h.db.selectFrom('orders').select('id').where('id', '=', q),
      h.db.selectFrom('orders').select('id').where('transaction_id', '=', q),
      h.db.selectFrom('payment_attempts').select('order_id as id').where('out_trade_no', '=', q),
      h.db.selectFrom('payment_attempts').select('order_id as id').where('transaction_id', '=', q),
      ...listQueries(h.db, { q: 'oBuyer7' }, undefined, 50, ['o_seed00007']),
      ...listQueries(h.db, { q: 'oBuyer7', status: 'paid' }, await cursorOf(), 50, ['o_seed00007']),
    ];
    for (const l of lookups) {
      const p = await plan(l);
      expectIndexed(p, false);
      expect(p).toMatch(engine === 'sqlite' ? /SEARCH (orders|payment_attempts) USING/ : /Index (Only )?Scan|Bitmap Index Scan/);
    }
    // The openid search reads the (buyer_openid, created_at, id) index; the bare buyer_openid one,
    // its prefix, is dropped (migration 0012), since every payment rewrote both.
    expect(await plan(listQueries(h.db, { q: 'oBuyer7' }, undefined, 50, [])[0])).toContain('orders_openid_created_idx');
    const indexes = engine === 'sqlite'
      ? await h.db.executeQuery<{ name: string }>(CompiledQuery.raw("select name from sqlite_master where type = 'index' and tbl_name = 'orders'"))
      : await h.db.executeQuery<{ name: string }>(CompiledQuery.raw("select indexname as name from pg_indexes where tablename = 'orders'"));
    const names = indexes.rows.map((r) => r.name);
    expect(names).toContain('orders_openid_created_idx');
    expect(names).not.toContain('orders_openid_idx');
    const t = chinaDayBounds(chinaDate(NOW))!;
    const tp = await plan(todayQuery(h.db, t.start, t.end));
    expectIndexed(tp, false);
    expect(tp).toContain('orders_paid_idx');
  });

  it('search finds the order by each identifier, exactly', async () => {
    const byKind = {
      id: 'o_seed00042',
      out_trade_no: 'P2026SEED000042',
      transaction_id: '42000000000041',
    };
    expect(await findOrderIdsFor(h.db, byKind.id)).toEqual(['o_seed00042']);
    expect(await findOrderIdsFor(h.db, byKind.out_trade_no)).toEqual(['o_seed00042']);
    expect(await findOrderIdsFor(h.db, byKind.transaction_id)).toEqual(['o_seed00041']);
    expect(await findOrderIdsFor(h.db, 'o_seed0004')).toEqual([]);
    const r = await listOrders({ q: 'o_seed00042' }, undefined, 50, h.db);
    expect(r.orders.map((o) => o.id)).toEqual(['o_seed00042']);
    expect(r.nextCursor).toBeNull();
    // openid oBuyer7 owns orders 7, 2007, 4007, 6007, 8007: paged two at a time, newest first
    const seen: string[] = [];
    let cursor;
    for (let i = 0; i < 5; i++) {
      const page = await listOrders({ q: 'oBuyer7' }, cursor, 2, h.db);
      seen.push(...page.orders.map((o) => o.id));
      if (!page.nextCursor) break;
      cursor = decodeCursor(page.nextCursor);
    }
    expect(seen).toEqual(['o_seed00007', 'o_seed02007', 'o_seed04007', 'o_seed06007', 'o_seed08007']);
    const paidOnly = await listOrders({ q: 'oBuyer7', status: 'paid' }, undefined, 50, h.db);
    expect(paidOnly.orders.every((o) => o.status === 'paid')).toBe(true);
    expect(paidOnly.orders.map((o) => o.id)).toEqual(seen.filter((id) => Number(id.slice(6)) % 5 === 1));
  });

  it('keyset pages cover every order exactly once, newest first, ties broken by id', async () => {
    const ids: string[] = [];
    let last = '\uffff';
    let cursor;
    for (;;) {
      const page = await listOrders({}, cursor, 200, h.db);
      for (const o of page.orders) {
        const key = `${o.createdAt}|${o.id}`;
        expect(key < last).toBe(true);
        last = key;
        ids.push(o.id);
      }
      if (!page.nextCursor) break;
      cursor = decodeCursor(page.nextCursor);
    }
    expect(ids.length).toBe(N);
    expect(new Set(ids).size).toBe(N);
  });

  it('filters by status and China-time date', async () => {
    const r = await listOrders({ status: 'refunded', from: '2026-11-01', to: '2026-11-10' }, undefined, 200, h.db);
    expect(r.orders.length).toBeGreaterThan(0);
    const { start } = chinaDayBounds('2026-11-01')!;
    const { end } = chinaDayBounds('2026-11-10')!;
    for (const o of r.orders) {
      expect(o.status).toBe('refunded');
      expect(o.createdAt >= start && o.createdAt < end).toBe(true);
    }
    const count = await h.db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n'))
      .where('status', '=', 'refunded').where('created_at', '>=', start).where('created_at', '<', end).executeTakeFirstOrThrow();
    expect(r.orders.length).toBe(Number(count.n));
  });

  it("today's totals: orders paid today in UTC+8, gross and refunded", async () => {
    const t = await todayTotals(NOW, h.db);
    const { start, end } = chinaDayBounds(t.date)!;
    const rows = await h.db.selectFrom('orders').selectAll().where('paid_at', '>=', start).where('paid_at', '<', end).execute();
    expect(t.paidCount).toBe(rows.length);
    expect(t.paidCount).toBeGreaterThan(0);
    expect(t.grossFen).toBe(rows.reduce((s, o) => s + o.amount_fen, 0));
    expect(t.refundedFen).toBe(rows.reduce((s, o) => s + o.refunded_fen, 0));
    expect(t.date).toBe('2026-11-22');
  });

  it('refuses query strings it cannot honour', () => {
    expect(parseOrderQuery(new URLSearchParams('status=shipped')).ok).toBe(false);
    expect(parseOrderQuery(new URLSearchParams('from=2026-02-30')).ok).toBe(false);
    expect(parseOrderQuery(new URLSearchParams('cursor=bm9wZQ')).ok).toBe(false);
    expect(parseOrderQuery(new URLSearchParams('limit=0')).ok).toBe(false);
    const ok = parseOrderQuery(new URLSearchParams('status=paid&q=%20abc%20&limit=10'));
    expect(ok).toEqual({ ok: true, filter: { status: 'paid', q: 'abc' }, cursor: undefined, limit: 10 });
  });

  it('CSV lines quote commas and quotes and defuse formulas', () => {
    const line = csvLine({
      id: 'o_1', status: 'paid', amountFen: 1234, refundedFen: 0, sku: 's', name: '礼盒, "大"', quantity: 1,
      buyerOpenid: '=cmd()', transactionId: null, duplicatePaid: false, createdAt: '2026-11-22T00:00:00.000Z', paidAt: null,
    });
    expect(line).toBe(`o_1,paid,12.34,0.00,s,"礼盒, ""大""",1,'=cmd(),,0,2026-11-22 08:00:00,\r\n`);
    expect(UTF8_BOM).toBe('\uFEFF');
  });
});
