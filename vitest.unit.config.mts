import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: test/unit only, with no global setup, so it runs in seconds without building
 * Next or starting PostgreSQL (unit tests that need a database use a temporary SQLite file).
 */
export default defineConfig({
  resolve: { alias: { '@': path.dirname(fileURLToPath(import.meta.url)) } },
  test: {
    // lib/checkout run inside a test process logs through lib/log: only what went wrong reaches the
    // test output (servers started by test/helpers/server.ts log at info into their captured output).
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
