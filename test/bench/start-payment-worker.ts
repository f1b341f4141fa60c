/**
 * Child process of the bench (test/bench/bench.ts): this process is a second instance of the served app
 * (its database through DATABASE_URL, its sandbox through SANDBOX_MCH_BASE_URL, its PUBLIC_BASE_URL),
 * as in test/integration/checkout-start-payment.test.ts. It times lib/checkout's startPayment (NATIVE,
 * a new buyer each call, so every call places an order and a unifiedorder) against raw unifiedorder
 * calls to the same sandbox made with lib/wechatpay's WechatPayClient configured exactly as the
 * gateway's, in alternating rounds (ABBA). A separate process so that lib/'s module-level singletons
 * (configuration, database, pay client) belong to one app per run, under tsx or vitest alike.
 *
 * Settings from the environment: BENCH_START_ROUNDS, BENCH_START_CALLS (per round and kind),
 * BENCH_START_CONCURRENCY, BENCH_START_WARMUP. Prints one JSON line on stdout.
 */
import { startPayment } from '../../lib/checkout/payments';
import { newOutTradeNo } from '../../lib/checkout/kernel';
import { getConfig } from '../../lib/config';
import { getDbHandle } from '../../lib/db';
import { WechatPayClient } from '../../lib/wechatpay/client';
import { formatWxTime } from '../../lib/wechatpay/time';

export interface StartPaymentSample {
  /** Milliseconds per startPayment call, in call order. */
  startPayment: number[];
  /** Milliseconds per raw unifiedorder call. */
  unifiedorder: number[];
  /** Wall seconds spent in each kind's rounds. */
  startSeconds: number;
  unifiedSeconds: number;
  /** startPayment calls that did not answer ok:true, and unifiedorder calls that threw. */
  startFailures: number;
  unifiedFailures: number;
  firstError: string | null;
}

const num = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);

async function main() {
  const rounds = num('BENCH_START_ROUNDS', 4);
  const calls = num('BENCH_START_CALLS', 50);
  const conc = num('BENCH_START_CONCURRENCY', 1);
  const warmup = num('BENCH_START_WARMUP', 5);
  const c = getConfig();
  // The gateway's client (lib/checkout/gateway/client.ts), built from the same configuration.
  const client = new WechatPayClient({ appId: c.appId, mchId: c.mchId, apiKey: c.apiKey, signType: c.signType, baseUrl: c.mchBaseUrl });
  const product = { sku: 'green-tea', name: '明前龙井 50g', fen: 6800 };
  const out: StartPaymentSample = { startPayment: [], unifiedorder: [], startSeconds: 0, unifiedSeconds: 0, startFailures: 0, unifiedFailures: 0, firstError: null };
  let buyerSeq = 0;

  const oneStart = async (): Promise<boolean> => {
    const seq = buyerSeq++;
    // A new buyer from a new address each call, as many shoppers are: the per-address order limit
    // (ORDER_RATE_PER_IP, 30 in 10 minutes) is checked on every call but never reached.
    const clientIp = `10.${(seq >> 16) & 255}.${(seq >> 8) & 255}.${seq & 255}`;
    const r = await startPayment({ sku: product.sku, quantity: 1, buyerId: `b_bench${process.pid}x${seq}`, mode: 'native', clientIp });
    if (!r.ok) out.firstError ??= `startPayment: ${r.code} ${r.message}`;
    return r.ok;
  };
  // What lib/checkout/gateway/payments.ts placeOrder sends for a NATIVE attempt.
  const oneUnified = async (): Promise<boolean> => {
    const now = Date.now();
    try {
      await client.unifiedOrder({
        body: product.name, out_trade_no: newOutTradeNo(now), total_fee: product.fen, spbill_create_ip: '127.0.0.1',
        notify_url: `${c.publicBaseUrl}/api/wechatpay/notify`, trade_type: 'NATIVE', product_id: product.sku,
        time_start: formatWxTime(now), time_expire: formatWxTime(now + c.orderTtlMinutes * 60_000),
      });
      return true;
    } catch (e) {
      out.firstError ??= `unifiedorder: ${(e as Error).message}`;
      return false;
    }
  };
  /** `n` calls of `fn`, `conc` in flight; returns each call's milliseconds, the wall seconds and the failures. */
  const batch = async (n: number, fn: () => Promise<boolean>) => {
    const times: number[] = [];
    let failures = 0;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: Math.min(conc, n) }, async () => {
      while (next < n) {
        next++;
        const s = performance.now();
        const ok = await fn();
        times.push(performance.now() - s);
        if (!ok) failures++;
      }
    }));
    return { times, seconds: (performance.now() - t0) / 1000, failures };
  };

  // Warm both paths (modules, connection pools, the QR encoder, the route bundles on the server).
  await batch(warmup, oneUnified);
  await batch(warmup, oneStart);
  out.firstError = null;

  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? (['u', 's'] as const) : (['s', 'u'] as const);
    for (const kind of order) {
      if (kind === 'u') {
        const b = await batch(calls, oneUnified);
        out.unifiedorder.push(...b.times);
        out.unifiedSeconds += b.seconds;
        out.unifiedFailures += b.failures;
      } else {
        const b = await batch(calls, oneStart);
        out.startPayment.push(...b.times);
        out.startSeconds += b.seconds;
        out.startFailures += b.failures;
      }
    }
  }
  await (await getDbHandle()).close();
  process.stdout.write(`\n${JSON.stringify(out)}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
