/**
 * Integer fen to the yuan text people read: 6800 -> "68.00", exactly (no floats). Import-free, so
 * server code, client components and the sandbox all share this one formatter.
 */
export function formatYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
