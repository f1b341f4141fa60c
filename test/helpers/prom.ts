/** One Prometheus text exposition parsed into `name{labels}` -> value (comments skipped). */
export type Scrape = Map<string, number>;

/** Parses Prometheus text format lines `name{a="b",c="d"} 12.5` (labels kept in the order written). */
export function parseProm(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** GET /api/metrics of a server, parsed; throws unless it answered 200. */
export async function scrape(baseUrl: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const r = await fetch(`${baseUrl}/api/metrics`, { headers });
  if (r.status !== 200) throw new Error(`/api/metrics answered ${r.status}: ${await r.text()}`);
  return parseProm(await r.text());
}

/** How much each series moved between two scrapes (a series absent before counts from 0). */
export function delta(before: Scrape, after: Scrape, series: string): number {
  return (after.get(series) ?? 0) - (before.get(series) ?? 0);
}
