import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckoutUnderTest, checkoutAgainst, orderRow } from '../helpers/checkout-unit';
import { freshDatabaseUrl } from '../helpers/db';
import { insertOrder } from '../helpers/orders';

/**
 * Named statements (lib/db/pg-named.ts) across a schema change made by another instance: in a rolling
 * deploy the new version's migration adds a column to `orders` while the old version's sessions hold
 * their prepared payment statements. PostgreSQL refuses to run a prepared statement whose result
 * columns changed ("cached plan must not change result type"), so a statement that returned `*` would
 * fail every payment on the old instance until it restarted. The hot statements name their columns.
 * One connection, so both payments run in the session that prepared the statements.
 */
describe('named statements on PostgreSQL when another instance adds a column', () => {
  let app: CheckoutUnderTest;
  let payments: typeof import('@/lib/checkout/payments');
  beforeAll(async () => {
    app = await checkoutAgainst(null, { DATABASE_URL: await freshDatabaseUrl('postgres'), DATABASE_POOL_MAX: '1' });
    payments = await import('@/lib/checkout/payments');
  });
  afterAll(async () => app?.close());

  it('a payment after `orders` grew a column applies like the one before it', async () => {
    const pay = async (fen: number, txn: string) => {
      const a = await insertOrder(app.db, { amountFen: fen });
      const r = await payments.applyPayment({ source: 'notify', outTradeNo: a.outTradeNo, transactionId: txn, totalFee: fen, raw: '<xml/>' });
      return { r, a };
    };
    const first = await pay(300, '4200000000000000000000000911');
    expect(first.r).toMatchObject({ outcome: 'applied' });
    // What a newer version's migration would do, on the same database, while this instance runs.
    await sql`alter table orders add column added_by_a_newer_version text`.execute(app.db);
    const second = await pay(400, '4200000000000000000000000912');
    expect(second.r).toMatchObject({ outcome: 'applied', orderId: second.a.orderId });
    expect(await orderRow(app.db, second.a.orderId)).toMatchObject({ status: 'paid', transaction_id: '4200000000000000000000000912' });
  });
});
