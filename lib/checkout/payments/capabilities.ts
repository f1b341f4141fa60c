import { getConfig } from '../../config';
import { getDb, nowIso } from '../../db';
import { log } from '../../log';
import { type ClientKind, type PayMode, payModeFor } from '../buyer';

/*
 * Whether H5 payment (MWEB) is offered to phone browsers outside WeChat. WECHATPAY_MWEB=off never,
 * `on` always, `auto` (the default) until WeChat answers an MWEB order with NO_AUTH: the merchant has no
 * H5 permission. That answer is remembered in `pay_capabilities`, a row in the shared database rather
 * than process memory, so every instance behind the load balancer stops offering H5 after one refusal
 * (one buyer, not one per instance, meets it), and a restart does not forget it. It counts for
 * MWEB_REFUSAL_TTL_MS, keyed by mch_id: permission granted later, or another merchant configured, is
 * picked up without anyone clearing it.
 */

/** How long a NO_AUTH keeps H5 off in `auto`: a day, so a merchant granted H5 later gets it back by itself. */
export const MWEB_REFUSAL_TTL_MS = 24 * 60 * 60 * 1000;

/** True when a phone browser outside WeChat should be offered H5 payment now. */
export async function mwebOffered(now: number = Date.now()): Promise<boolean> {
  const c = getConfig();
  if (c.mweb !== 'auto') return c.mweb === 'on';
  return (await mwebRefusedAt(now)) === null;
}

/** How a buyer of `kind` pays now: payModeFor, asking whether H5 is offered only for a phone browser. */
export async function payModeNow(kind: ClientKind): Promise<PayMode> {
  return payModeFor(kind, kind === 'mobile' && (await mwebOffered()));
}

/** When WeChat last refused this merchant H5 payment (NO_AUTH) within MWEB_REFUSAL_TTL_MS, else null. */
export async function mwebRefusedAt(now: number = Date.now()): Promise<string | null> {
  const db = await getDb();
  const row = await db.selectFrom('pay_capabilities').select('refused_at')
    .where('capability', '=', 'mweb').where('mch_id', '=', getConfig().mchId).executeTakeFirst();
  return row && Date.parse(row.refused_at) > now - MWEB_REFUSAL_TTL_MS ? row.refused_at : null;
}

/** WeChat answered an MWEB order with NO_AUTH: remembered for every instance (a repeat just moves the time). */
export async function noteMwebRefused(detail: string, now: number = Date.now()): Promise<void> {
  const db = await getDb();
  const at = nowIso(now);
  const mchId = getConfig().mchId;
  await db.insertInto('pay_capabilities').values({ capability: 'mweb', mch_id: mchId, refused_at: at, detail: detail.slice(0, 500) })
    .onConflict((oc) => oc.columns(['capability', 'mch_id']).doUpdateSet({ refused_at: at, detail: detail.slice(0, 500) }))
    .execute();
  log().warn({ event: 'mweb_refused', mch_id: mchId, detail }, 'WeChat refused H5 payment (NO_AUTH): phone browsers get open-in-WeChat and the QR');
}
