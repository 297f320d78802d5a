/**
 * The development corpus beside the checkout (../shared/corpus). Tests that
 * need it run only when it is present and say so loudly when it is not, so a
 * green run without it is never mistaken for a full one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe } from 'vitest';

export const SHARED_CORPUS = path.resolve(process.cwd(), '..', 'shared', 'corpus');
export const hasSharedCorpus = fs.existsSync(path.join(SHARED_CORPUS, 'README.md'));

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_CORPUS, ...parts);
}

/** `describe` when ../shared/corpus exists, otherwise a skipped suite with a visible message. */
export function describeWithSharedCorpus(name: string, body: () => void): void {
  if (hasSharedCorpus) {
    describe(name, body);
  } else {
    console.warn(`[skipped] ${name}: ../shared/corpus is not present beside the checkout`);
    describe.skip(`${name} (skipped: ../shared/corpus not present)`, body);
  }
}
