/**
 * Reviewed snapshots of what parsing makes of the sample corpus (corpus/):
 * tests/snapshots/parse/corpus/<file>.txt. A change to any heuristic of
 * clean, structure, metadata or passages shows as a diff of those files;
 * after reviewing it, `npx vitest run tests/unit/parse-snapshots.test.ts -u`
 * writes the new ones (the shared PDFs: tests/e2e/parse-corpus.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFile } from '../../ingest/parse.ts';
import { parseSnapshot } from '../support/parse-snapshot.ts';

const CORPUS = path.resolve(import.meta.dirname, '..', '..', 'corpus');
const SNAPSHOTS = path.resolve(import.meta.dirname, '..', 'snapshots', 'parse', 'corpus');

describe('parse snapshots of the sample corpus', () => {
  const files = fs.readdirSync(CORPUS).filter((name) => !name.startsWith('.') && name !== 'README.md').sort();
  it('covers every sample file', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });
  for (const name of files) {
    it(name, async () => {
      const doc = await parseFile(path.join(CORPUS, name), { passageMaxChars: 300, displayPath: name });
      await expect(parseSnapshot(doc)).toMatchFileSnapshot(path.join(SNAPSHOTS, `${name}.txt`));
    });
  }
});
