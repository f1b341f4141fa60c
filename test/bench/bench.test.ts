import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { type BenchReport, ROWS, type RowId, root, runBench, SMOKE_SETTINGS } from './bench';

/**
 * `npm run bench` once on a tiny load (SMOKE_SETTINGS), on the build and PostgreSQL of the global
 * setup, so the benchmark keeps working as the app changes. It checks that the table and the JSON
 * report have every row on both engines, and never fails on a number: speed is the full bench's
 * business (docs/bench.md).
 */
describe('npm run bench (smoke)', () => {
  it('prints one table and writes a JSON report with every row on SQLite and PostgreSQL', async () => {
    const outFile = path.join(root, 'test-results/bench-smoke.json');
    const report = await runBench({ distDir: inject('distDir'), settings: SMOKE_SETTINGS, pgAdminUrl: inject('pgUrl'), outFile, log: () => {} });
    console.log(report.table);

    const written = JSON.parse(readFileSync(outFile, 'utf8')) as BenchReport;
    expect(written.table).toBe(report.table);
    const lines = report.table.split('\n');
    expect(lines[0]).toMatch(/^\| engine \| row \|.*\| req\/s ÷ ref \| p99 ÷ ref \| notes \|$/);
    for (const engine of ['sqlite', 'postgres'] as const) {
      for (const id of Object.keys(ROWS) as RowId[]) {
        const r = written.rows.find((x) => x.engine === engine && x.id === id);
        expect(r, `${engine} ${id}`).toBeDefined();
        if (id.startsWith('page-')) {
          // Page rows are times and bytes, not a throughput: no req/s (null in JSON), the budget facts in extra.
          for (const v of [r!.measured.p50, r!.measured.p99, r!.ref.p50, r!.p99Ratio, r!.extra.jsRatio, r!.extra.hydratedP50Ms]) expect(typeof v).toBe('number');
          expect(r!.notes).toMatch(/usable p50 \d+ ms.*JS until hydrated/);
        } else {
          for (const v of [r!.measured.rps, r!.measured.p50, r!.measured.p99, r!.ref.rps, r!.ref.p99, r!.rpsRatio, r!.p99Ratio]) expect(typeof v).toBe('number');
        }
        if (id.startsWith('notify-') || id === 'poll') {
          // The served app's CPU per answer, read from /proc (this suite runs on Linux), on both sides. On this
          // tiny load a side may take fewer than one clock tick (10 ms) of CPU, so zero is a possible reading.
          for (const v of [r!.measured.cpuMsPerAnswer, r!.ref.cpuMsPerAnswer]) expect(Number.isFinite(v) && v >= 0, String(v)).toBe(true);
          expect(r!.notes).toMatch(/server CPU per answer \d+\.\d\d ms, reference's \d+\.\d\d ms/);
        }
        expect(lines.filter((l) => l.startsWith(`| ${engine} | ${ROWS[id]} |`))).toHaveLength(1);
      }
    }
    expect(written.rows).toHaveLength(2 * Object.keys(ROWS).length);
  }, 300_000);
});
