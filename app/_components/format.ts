/** Integer fen to yuan text for client components (lib/checkout/catalog's formatYuan lives behind the db). */
export function yuan(fen: number): string {
  const abs = Math.abs(fen);
  return `${fen < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** ISO time as Beijing wall time `yyyy-MM-dd HH:mm:ss`: the same text on server and client (no hydration drift). */
export function beijingTime(iso: string): string {
  const d = new Date(Date.parse(iso) + 8 * 3600_000);
  return d.toISOString().slice(0, 19).replace('T', ' ');
}
