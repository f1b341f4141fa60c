import { getConfig } from '@/lib/config';
import { sandboxOff, userCookie } from '@/lib/sandbox/guard';
import { seeOther } from '@/lib/sandbox/http';
import { createUser, getUser } from '@/lib/sandbox/users';

/**
 * Dashboard form: action=create (name, subscribe=Y, snapshot=1 for a snapshot-page user) makes a new
 * simulated WeChat user and switches to it; action=switch (id).
 */
export async function POST(req: Request) {
  const off = sandboxOff();
  if (off) return off;
  const form = await req.formData();
  if (form.get('action') === 'create') {
    const user = await createUser(String(form.get('name') ?? ''), form.get('subscribe') === 'Y', getConfig().appId, form.get('snapshot') === '1');
    return seeOther('/sandbox#users', [userCookie(user.id)]);
  }
  const user = await getUser(String(form.get('id') ?? ''));
  if (!user) return new Response('unknown user', { status: 400 });
  return seeOther('/sandbox#users', [userCookie(user.id)]);
}
