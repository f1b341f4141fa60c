'use server';

import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { endMerchantSession, logInMerchantSession } from '@/app/_http/merchant-session';
import { pickLocale } from '@/lib/i18n';
import { safeNext } from '../_components/guard';
import type { LoginState } from '../_components/types';

export async function loginAction(_prev: LoginState, form: FormData): Promise<LoginState> {
  const h = await headers();
  const locale = pickLocale(h.get('accept-language'));
  const password = form.get('password');
  if (typeof password !== 'string' || password === '') {
    return { ok: false, code: 'BAD_PASSWORD', message: locale === 'en' ? 'Enter the merchant password.' : '请输入商户密码。' };
  }
  const r = await logInMerchantSession(password, h, locale);
  if (!r.ok) return { ok: false, code: r.code, message: r.message };
  redirect(safeNext(String(form.get('next') ?? '')));
}

export async function logoutAction(): Promise<void> {
  await endMerchantSession();
  redirect('/merchant/login');
}
