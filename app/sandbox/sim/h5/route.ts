import { json, sandboxOff } from '@/lib/sandbox/guard';
import { h5PayOf, setH5Pay } from '@/lib/sandbox/h5';
import { readJson, seeOther } from '@/lib/sandbox/http';
import { envMerchant, findMerchant, listMerchants } from '@/lib/sandbox/merchants';

/** GET /sandbox/sim/h5: each merchant's H5 payment settings `{merchants: [{mch_id, h5_pay, h5_domains}]}`. */
export async function GET() {
  const off = sandboxOff();
  if (off) return off;
  const merchants = await listMerchants();
  return json({ merchants: await Promise.all(merchants.map(async (m) => ({ mch_id: m.mchId, h5_pay: await h5PayOf(m), h5_domains: m.h5Domains }))) });
}

/**
 * POST /sandbox/sim/h5 JSON `{mch_id?, h5_pay: true|false}` (mch_id defaults to the checkout's own):
 * grants or takes away H5 payment, so MWEB orders answer NO_AUTH as WeChat does for a merchant without
 * the permission. The dashboard's form posts the same fields and comes back to /sandbox.
 */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const isForm = (req.headers.get('content-type') ?? '').includes('form');
  let mchId: unknown;
  let on: unknown;
  if (isForm) {
    const form = await req.formData();
    mchId = form.get('mch_id') ?? undefined;
    on = form.get('h5_pay') === 'true' ? true : form.get('h5_pay') === 'false' ? false : form.get('h5_pay');
  } else {
    const body = await readJson(req);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return json({ ok: false, code: 'BAD_REQUEST', message: 'body must be a JSON object {mch_id?, h5_pay}' }, 400);
    ({ mch_id: mchId, h5_pay: on } = body as { mch_id?: unknown; h5_pay?: unknown });
  }
  if (typeof on !== 'boolean') return json({ ok: false, code: 'BAD_REQUEST', message: 'h5_pay must be true or false' }, 400);
  if (mchId !== undefined && typeof mchId !== 'string') return json({ ok: false, code: 'BAD_REQUEST', message: 'mch_id must be a string' }, 400);
  const merchant = mchId ? await findMerchant(mchId) : envMerchant();
  if (!merchant) return json({ ok: false, code: 'MCHID_NOT_EXIST', message: `no sandbox merchant ${mchId}` }, 404);
  await setH5Pay(merchant.mchId, on);
  if (isForm) return seeOther('/sandbox');
  return json({ ok: true, mch_id: merchant.mchId, h5_pay: on, h5_domains: merchant.h5Domains });
}
