import { json, sandboxOff } from '@/lib/sandbox/guard';
import { H5_REFUSAL_FORMS, type H5RefusalForm, h5PayOf, h5RefusalOf, setH5Pay } from '@/lib/sandbox/h5';
import { readJson, seeOther } from '@/lib/sandbox/http';
import { envMerchant, findMerchant, listMerchants } from '@/lib/sandbox/merchants';

/** GET /sandbox/sim/h5: each merchant's H5 payment settings `{merchants: [{mch_id, h5_pay, refusal, h5_domains}]}`. */
export async function GET() {
  const off = sandboxOff();
  if (off) return off;
  const merchants = await listMerchants();
  return json({ merchants: await Promise.all(merchants.map(async (m) => ({ mch_id: m.mchId, h5_pay: await h5PayOf(m), refusal: await h5RefusalOf(m), h5_domains: m.h5Domains }))) });
}

/**
 * POST /sandbox/sim/h5 JSON `{mch_id?, h5_pay: true|false, refusal?: 'RETURN_FAIL'|'NOAUTH'}` (mch_id
 * defaults to the checkout's own): grants or takes away H5 payment, so MWEB orders are refused as WeChat
 * refuses a merchant without the permission. `refusal` picks v2's form: RETURN_FAIL (the default, what live
 * answers: unsigned return_code=FAIL 商户号该产品权限未开通) or NOAUTH (signed err_code NOAUTH 商户无此接口权限);
 * v3 always answers 403 NO_AUTH. The dashboard's form posts the same fields and comes back to /sandbox.
 */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const isForm = (req.headers.get('content-type') ?? '').includes('form');
  let mchId: unknown;
  let on: unknown;
  let refusal: unknown;
  if (isForm) {
    const form = await req.formData();
    mchId = form.get('mch_id') ?? undefined;
    refusal = form.get('refusal') || undefined;
    on = form.get('h5_pay') === 'true' ? true : form.get('h5_pay') === 'false' ? false : form.get('h5_pay');
  } else {
    const body = await readJson(req);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return json({ ok: false, code: 'BAD_REQUEST', message: 'body must be a JSON object {mch_id?, h5_pay}' }, 400);
    ({ mch_id: mchId, h5_pay: on, refusal } = body as { mch_id?: unknown; h5_pay?: unknown; refusal?: unknown });
  }
  if (refusal !== undefined && !H5_REFUSAL_FORMS.includes(refusal as H5RefusalForm)) return json({ ok: false, code: 'BAD_REQUEST', message: `refusal must be one of ${H5_REFUSAL_FORMS.join(', ')}` }, 400);
  if (typeof on !== 'boolean') return json({ ok: false, code: 'BAD_REQUEST', message: 'h5_pay must be true or false' }, 400);
  if (mchId !== undefined && typeof mchId !== 'string') return json({ ok: false, code: 'BAD_REQUEST', message: 'mch_id must be a string' }, 400);
  const merchant = mchId ? await findMerchant(mchId) : envMerchant();
  if (!merchant) return json({ ok: false, code: 'MCHID_NOT_EXIST', message: `no sandbox merchant ${mchId}` }, 404);
  await setH5Pay(merchant.mchId, on, refusal as H5RefusalForm | undefined);
  if (isForm) return seeOther('/sandbox');
  return json({ ok: true, mch_id: merchant.mchId, h5_pay: on, refusal: await h5RefusalOf(merchant), h5_domains: merchant.h5Domains });
}
