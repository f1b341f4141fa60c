import { BRIDGE_JS } from '@/lib/sandbox/bridge-script';
import { sandboxOff } from '@/lib/sandbox/guard';

export async function GET() {
  const off = sandboxOff();
  if (off) return off;
  return new Response(BRIDGE_JS, { headers: { 'content-type': 'application/javascript; charset=utf-8', 'cache-control': 'no-cache' } });
}
