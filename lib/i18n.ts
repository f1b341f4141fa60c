/** The two languages of the UI: Simplified Chinese by default, English when the browser prefers it. */
export type Locale = 'zh' | 'en';

/**
 * Picks the locale from an Accept-Language header: English only when an `en` tag outranks every
 * `zh` tag by q-value (ties and absent headers stay Chinese: the buyers are in WeChat).
 */
export function pickLocale(acceptLanguage: string | null | undefined): Locale {
  if (!acceptLanguage) return 'zh';
  let en = -1;
  let zh = -1;
  for (const [i, part] of acceptLanguage.split(',').entries()) {
    const [tag, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.find((p) => p.trim().startsWith('q='));
    const q = qParam ? Number(qParam.trim().slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    const score = q - i * 1e-6; // earlier entries win ties, as browsers order them by preference
    if (tag === 'en' || tag.startsWith('en-')) en = Math.max(en, score);
    if (tag === 'zh' || tag.startsWith('zh-')) zh = Math.max(zh, score);
  }
  return en > zh ? 'en' : 'zh';
}
