import { sandboxDb } from '@/lib/sandbox/db';
import { resendDelivery } from '@/lib/sandbox/deliveries';
import { sandboxOff } from '@/lib/sandbox/guard';
import { seeOther } from '@/lib/sandbox/http';

/** Dashboard Resend: one more delivery attempt now. */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const id = String((await req.formData()).get('id') ?? '');
  if (!(await resendDelivery(await sandboxDb(), id))) return new Response('unknown delivery', { status: 400 });
  return seeOther('/sandbox#deliveries');
}
