/**
 * Longest files first, so that no long file starts last and runs alone on one
 * core while the other idles. Vitest does this itself from the durations it
 * keeps of the previous run (node_modules/.vite/vitest/); without them — a
 * fresh clone, CI — it starts the largest files first, and the longest file
 * of all (e5-parity, a small file) started last: in CI it ran its 102 s alone
 * at the end of a 272 s run. There, the files below, measured slowest, go
 * first, in this order; the others follow in vitest's order.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Slowest first, by their duration in a CI run from a fresh clone (tests/README of the suite: README.md, Development). */
const SLOWEST = [
  'tests/e2e/e5-parity.test.ts',
  'tests/e2e/tables-pdf.test.ts',
  'tests/e2e/hybrid.test.ts',
  'tests/e2e/hostile-input.test.ts',
  'tests/e2e/writer.test.ts',
  'tests/e2e/precedent-similarity.test.ts',
  'tests/e2e/kb-crash.test.ts',
  'tests/e2e/model-startup.test.ts',
];

export default class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const relative = (spec: TestSpecification) => spec.moduleId.slice(this.ctx.config.root.length + 1);
    const measured = sorted.every((spec) => this.ctx.cache.getFileTestResults(`${spec.project.name}:${relative(spec)}`));
    if (measured) return sorted;
    const rank = (spec: TestSpecification) => {
      const index = SLOWEST.indexOf(relative(spec));
      return index < 0 ? SLOWEST.length : index;
    };
    // Array.prototype.sort is stable: the rest keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
