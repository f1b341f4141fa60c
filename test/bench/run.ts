/**
 * `npm run bench`: every row of test/bench/bench.ts on SQLite and PostgreSQL against an existing
 * production build, printed as ONE markdown table (stdout) and written as JSON to
 * test-results/bench-results.json (BENCH_OUT to change; test-results/ is gitignored).
 *
 * The build: TEST_DIST_DIR or NEXT_DIST_DIR, else .next-test when built, else .next. The bench builds
 * nothing itself. PostgreSQL is started from Debian's binaries like the test suites do
 * (test/helpers/pg-server.ts) and stopped after. Settings: BENCH_* variables, see docs/bench.md.
 */
import path from 'node:path';
import { startPostgres } from '../helpers/pg-server';
import { defaultDistDir, root, runBench, settingsFromEnv } from './bench';

async function main() {
  const settings = settingsFromEnv();
  const distDir = defaultDistDir();
  const outFile = path.resolve(root, process.env.BENCH_OUT || 'test-results/bench-results.json');
  const pg = settings.engines.includes('postgres') ? await startPostgres() : undefined;
  try {
    const report = await runBench({ distDir, settings, pgAdminUrl: pg?.url, outFile });
    console.log(report.table);
    console.error(`\n[bench] ${report.rows.length} rows; JSON: ${path.relative(root, outFile)}; load average before ${report.machine.loadavgBefore.map((l) => l.toFixed(2)).join(' ')}, after ${report.machine.loadavgAfter.map((l) => l.toFixed(2)).join(' ')} on ${report.machine.cpus} CPUs`);
  } finally {
    await pg?.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
