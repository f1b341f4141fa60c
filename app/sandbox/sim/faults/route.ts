import { activeFaults, addFault, clearFaults, parseFaultInput } from '@/lib/sandbox/faults';
import { json, sandboxOff } from '@/lib/sandbox/guard';
import { readJson, seeOther } from '@/lib/sandbox/http';

export async function GET() {
  return sandboxOff() ?? json({ faults: activeFaults() });
}

/** JSON {api?, fault, count, delayMs?} adds a fault; the dashboard's form (action=clear) clears them. */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  if ((req.headers.get('content-type') ?? '').includes('form')) {
    const form = await req.formData();
    if (form.get('action') === 'clear') clearFaults();
    return seeOther('/sandbox');
  }
  const parsed = parseFaultInput(await readJson(req));
  if (!parsed.ok) return json({ ok: false, code: 'BAD_REQUEST', message: parsed.message }, 400);
  return json({ ok: true, fault: addFault(parsed.value), faults: activeFaults() });
}

export async function DELETE() {
  const off = sandboxOff();
  if (off) return off;
  clearFaults();
  return json({ ok: true, faults: [] });
}
