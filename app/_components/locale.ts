import { headers } from 'next/headers';
import { pickLocale, type Locale } from '@/lib/i18n';

/** The request's UI locale (server components and actions). */
export async function requestLocale(): Promise<Locale> {
  return pickLocale((await headers()).get('accept-language'));
}
