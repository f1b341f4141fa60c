import { json, sandboxOff } from '@/lib/sandbox/guard';
import { readJson, seeOther } from '@/lib/sandbox/http';
import { createMerchant, listMerchants, merchantJson } from '@/lib/sandbox/merchants';

export const dynamic = 'force-dynamic';

/** Every merchant the sandbox answers for, with the keys an SDK needs (docs/sandbox.md "Merchants"). */
export async function GET() {
  return sandboxOff() ?? json({ merchants: (await listMerchants()).map(merchantJson) });
}

/**
 * Adds a merchant: JSON `{mch_id?, appid?, api_key?, app_secret?, sign_type?, oauth_domain?,
 * pay_directories?, name?}` answers 201 `{ok: true, merchant}`, 400 BAD_REQUEST or 409
 * MERCHANT_EXISTS; the dashboard's form gets a 303 back (or a 400 naming the problem).
 */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const form = (req.headers.get('content-type') ?? '').includes('form');
  let input: unknown;
  if (form) {
    const f = await req.formData();
    // Empty form fields mean "generate it"; everything else is taken as typed.
    input = Object.fromEntries([...f.entries()].filter(([, v]) => typeof v === 'string' && v.trim() !== ''));
  } else {
    input = await readJson(req);
  }
  const r = await createMerchant(input);
  if (form) return r.ok ? seeOther('/sandbox#merchants') : new Response(`${r.code}: ${r.message}`, { status: r.code === 'MERCHANT_EXISTS' ? 409 : 400, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  if (!r.ok) return json({ ok: false, code: r.code, message: r.message }, r.code === 'MERCHANT_EXISTS' ? 409 : 400);
  return json({ ok: true, merchant: merchantJson(r.merchant) }, 201);
}
