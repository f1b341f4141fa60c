import { json, sandboxOff } from '@/lib/sandbox/guard';
import { readJson } from '@/lib/sandbox/http';
import { publicKeysDocument, setV3SignerMode } from '@/lib/sandbox/v3/identity';

export const dynamic = 'force-dynamic';

/** The sandbox merchant's v3 keys, so any SDK can be pointed at /sandbox/mch (docs/sandbox.md). */
export async function GET() {
  return sandboxOff() ?? json(publicKeysDocument());
}

/** JSON {signer: "public_key" | "platform_certificate"}: how later v3 answers and notifies are signed. */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const b = (await readJson(req)) as { signer?: unknown } | undefined;
  if (b?.signer !== 'public_key' && b?.signer !== 'platform_certificate') {
    return json({ ok: false, code: 'BAD_REQUEST', message: 'signer must be "public_key" or "platform_certificate"' }, 400);
  }
  setV3SignerMode(b.signer);
  return json({ ok: true, ...publicKeysDocument() });
}
