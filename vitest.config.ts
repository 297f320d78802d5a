/**
 * Two projects, one per test folder:
 *   tests/unit/  in-process tests of modules on small real inputs (corpus/, tests/fixtures/, files of
 *                ../shared/corpus): no child process, no browser, no HTTP server other than a loopback
 *                stub, a few seconds per file at most. `npm run test:unit` runs them alone.
 *   tests/e2e/   the product as users run it: the API and the page over HTTP, the CLIs and `npm start`
 *                as child processes, crash recovery, whole-corpus sweeps.
 * Helpers live in tests/support/, committed inputs in tests/fixtures/.
 */
import { defineConfig } from 'vitest/config';
import SlowestFirst from './tests/support/sequencer.ts';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Native addons (onnxruntime, better-sqlite3) are safest in forked processes.
    pool: 'forks',
    // Both cores. Vitest's default (cores − 1) ran files one at a time: measured with /usr/bin/time, the e2e
    // files cost 235 CPU-s and the unit files 31, yet one worker took ~6 min of wall time on the quiet 2-core
    // machine, much of it one file waiting on a child process while the other core idled. On a machine that
    // is busy with other work (load ≫ 2), tests that spawn `npm start` or the ingest CLI can then hit their
    // 120 s timeouts: run `npx vitest run --maxWorkers 1` there.
    maxWorkers: 2,
    reporters: ['default', './tests/support/summary-reporter.ts'],
    sequence: { sequencer: SlowestFirst },
    projects: [
      // Unit files share one module cache per worker: most of a small file's time was importing pdf.js, jieba and transformers again.
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], isolate: false } },
      { extends: true, test: { name: 'e2e', include: ['tests/e2e/**/*.test.ts'] } },
    ],
  },
});
