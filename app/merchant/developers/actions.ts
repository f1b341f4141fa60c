'use server';

import { revalidatePath } from 'next/cache';
import { isMerchant } from '@/app/_http/merchant-session';
import { createApiKey, revokeApiKey } from '@/lib/checkout/developers';

/** The create form's answer: the new key, shown once, or why none was made. */
export type NewKeyState = { ok: true; id: string; name: string; key: string } | { ok: false; message: string } | null;

/** Makes an API key (merchant session checked again here, as every merchant action does). */
export async function createKeyAction(_prev: NewKeyState, form: FormData): Promise<NewKeyState> {
  if (!(await isMerchant())) return { ok: false, message: 'merchant login required' };
  const r = await createApiKey(String(form.get('name') ?? ''));
  if (!r.ok) return { ok: false, message: r.error.message };
  revalidatePath('/merchant/developers');
  return { ok: true, id: r.key.id, name: r.key.name, key: r.key.key };
}

/** Revokes an API key: every call with it answers 401 from now on, on every instance. */
export async function revokeKeyAction(id: string): Promise<void> {
  if (!(await isMerchant())) return;
  await revokeApiKey(id);
  revalidatePath('/merchant/developers');
}
