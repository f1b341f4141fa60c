/**
 * Integer fen to the yuan text people read: 6800 -> "68.00", exactly (no floats). Import-free, so
 * server code, client components and the sandbox all share these.
 */
export function formatYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** The outcome of reading a yuan amount a merchant typed. */
export type YuanParse = { ok: true; fen: number } | { ok: false; code: 'BAD_AMOUNT'; message: string };

// Up to 7 integer digits keeps fen inside PostgreSQL's 32-bit integer column.
const YUAN_RE = /^(\d{1,7})(?:\.(\d{1,2}))?$/;

/**
 * Yuan as a merchant types it ("0.5", "0.50", "12", "12.34") to integer fen, without floats:
 * 0.1 + 0.2 style rounding must never move money. Anything else is refused with a message
 * the merchant can act on.
 */
export function parseYuanToFen(input: string, locale: 'zh' | 'en' = 'zh'): YuanParse {
  const s = input.trim().replace(/^¥/, '');
  const m = YUAN_RE.exec(s);
  if (!m) {
    const tooPrecise = /^\d+\.\d{3,}$/.test(s);
    return {
      ok: false,
      code: 'BAD_AMOUNT',
      message: tooPrecise
        ? locale === 'en' ? `"${input}" has more than 2 decimals: the smallest unit is 0.01 yuan` : `“${input}”超过两位小数：最小单位是 0.01 元`
        : locale === 'en' ? `"${input}" is not an amount in yuan like 12.34` : `“${input}”不是有效金额，请输入如 12.34 的元金额`,
    };
  }
  const fen = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  if (fen <= 0) {
    return { ok: false, code: 'BAD_AMOUNT', message: locale === 'en' ? 'The amount must be at least 0.01 yuan' : '金额必须至少 0.01 元' };
  }
  return { ok: true, fen };
}
