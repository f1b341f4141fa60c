import { json, sandboxOff } from '@/lib/sandbox/guard';
import { readJson } from '@/lib/sandbox/http';
import { publicKeysDocument, setV3SignerMode, v3IdentityFor } from '@/lib/sandbox/v3/identity';

export const dynamic = 'force-dynamic';

/**
 * A merchant's v3 keys, so any SDK can be pointed at /sandbox/mch (docs/sandbox.md): `?mch_id=` names
 * the merchant (generated on first use), without it the checkout's own. 404 for an unknown merchant.
 */
export async function GET(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const mchId = new URL(req.url).searchParams.get('mch_id');
  const id = await v3IdentityFor(mchId);
  if (!id) return json({ ok: false, code: 'MCHID_NOT_EXIST', message: `no merchant ${mchId}` }, 404);
  return json(publicKeysDocument(id));
}

/** JSON {signer: "public_key" | "platform_certificate"}: how later v3 answers and notifies are signed, for every merchant. */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const b = (await readJson(req)) as { signer?: unknown } | undefined;
  if (b?.signer !== 'public_key' && b?.signer !== 'platform_certificate') {
    return json({ ok: false, code: 'BAD_REQUEST', message: 'signer must be "public_key" or "platform_certificate"' }, 400);
  }
  setV3SignerMode(b.signer);
  return json({ ok: true, ...publicKeysDocument((await v3IdentityFor(null))!) });
}
