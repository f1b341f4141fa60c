import { readFileSync } from 'node:fs';
import { envMerchant, parseMerchantInput, syncFileMerchants } from './merchants';

type Row = Extract<ReturnType<typeof parseMerchantInput>, { ok: true }>['row'];

/**
 * Reads SANDBOX_MERCHANTS_FILE: JSON, either an array of merchants or `{"merchants": [...]}`, each
 * `{mch_id, appid, api_key, app_secret?, sign_type?, oauth_domain?, pay_directories?, name?}`
 * (docs/sandbox.md). Every problem is named with the entry it is in; one bad entry refuses the file.
 */
export function readMerchantsFile(file: string): { ok: true; rows: Row[] } | { ok: false; errors: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, errors: [`SANDBOX_MERCHANTS_FILE: cannot read "${file}" as JSON (${err.code ?? err.message})`] };
  }
  const list = Array.isArray(json) ? json : typeof json === 'object' && json !== null ? (json as { merchants?: unknown }).merchants : undefined;
  if (!Array.isArray(list)) return { ok: false, errors: [`SANDBOX_MERCHANTS_FILE: "${file}" must hold an array of merchants or {"merchants": [...]}`] };
  const errors: string[] = [];
  const rows: Row[] = [];
  const env = envMerchant();
  list.forEach((entry, i) => {
    const p = parseMerchantInput(entry, { requireIdentity: true });
    if (!p.ok) {
      errors.push(`SANDBOX_MERCHANTS_FILE: merchant #${i + 1}: ${p.message}`);
      return;
    }
    if (p.row.mch_id === env.mchId || p.row.appid === env.appId) errors.push(`SANDBOX_MERCHANTS_FILE: merchant #${i + 1}: mch_id ${p.row.mch_id} / appid ${p.row.appid} is the checkout's own merchant (set it with WECHATPAY_MCH_ID, WECHAT_APPID, ...)`);
    else if (rows.some((r) => r.mch_id === p.row.mch_id)) errors.push(`SANDBOX_MERCHANTS_FILE: merchant #${i + 1}: mch_id ${p.row.mch_id} appears twice`);
    else if (rows.some((r) => r.appid === p.row.appid)) errors.push(`SANDBOX_MERCHANTS_FILE: merchant #${i + 1}: appid ${p.row.appid} appears twice (one official account per merchant here)`);
    else rows.push(p.row);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, rows };
}

/**
 * Start-up: makes the sandbox's merchants match SANDBOX_MERCHANTS_FILE when it is set. Returns the
 * problems (nothing changed then); [] when all is well or no file is configured.
 */
export async function loadMerchantsFile(env: Record<string, string | undefined> = process.env): Promise<string[]> {
  const file = env.SANDBOX_MERCHANTS_FILE?.trim();
  if (!file) return [];
  const read = readMerchantsFile(file);
  if (!read.ok) return read.errors;
  return (await syncFileMerchants(read.rows)).map((e) => `SANDBOX_MERCHANTS_FILE: ${e}`);
}
