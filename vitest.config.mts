import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { alias: { '@': path.dirname(fileURLToPath(import.meta.url)) } },
  test: {
    // lib/checkout run inside a test process logs through lib/log: only what went wrong reaches the
    // test output (servers started by test/helpers/server.ts log at info into their captured output).
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Two cores: two test files at a time, each with its own server(s) and database(s).
    maxWorkers: 2,
    pool: 'forks',
  },
});
