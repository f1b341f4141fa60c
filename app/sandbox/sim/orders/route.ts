import { ordersJson } from '@/lib/sandbox/dashboard';
import { json, sandboxOff } from '@/lib/sandbox/guard';

export async function GET() {
  const off = sandboxOff();
  if (off) return off;
  return json(await ordersJson());
}
