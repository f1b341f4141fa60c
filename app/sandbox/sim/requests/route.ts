import { json, sandboxOff } from '@/lib/sandbox/guard';
import { requestsJson } from '@/lib/sandbox/requests';

export const dynamic = 'force-dynamic';

/** The requests WeChat refused with return_code=FAIL, newest first, with the signature debugger's diagnosis. */
export async function GET() {
  const off = sandboxOff();
  if (off) return off;
  return json(await requestsJson());
}
