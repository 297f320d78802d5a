import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Native addons (onnxruntime, better-sqlite3) are safest in forked processes.
    pool: 'forks',
    reporters: ['default', './tests/support/summary-reporter.ts'],
  },
});
