/**
 * Every file of the shared corpus except laws/ (a separate scale benchmark)
 * and the JSONL record sets (records, not documents) parses without a crash:
 * each either gives a document whose offsets hold, or a one-line IngestError.
 * Prints pages per second and every warning, for the operator's record.
 *
 * The PDFs' parses are also compared with reviewed snapshots,
 * tests/snapshots/parse/shared/<file>.txt, so a change to any heuristic shows
 * as a diff; after reviewing it, `npx vitest run tests/e2e/parse-corpus.test.ts -u`
 * writes the new ones (the sample corpus: tests/unit/parse-snapshots.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { isIngestError } from '../../ingest/errors.ts';
import { parseFile } from '../../ingest/parse.ts';
import { OVERLAP_UNIT_CHARS } from '../../ingest/passages.ts';
import type { ParsedDocument } from '../../kb/types.ts';
import { parseSnapshot } from '../support/parse-snapshot.ts';
import { describeWithSharedCorpus, SHARED_CORPUS } from '../support/shared-corpus.ts';

const SNAPSHOTS = path.resolve(import.meta.dirname, '..', 'snapshots', 'parse', 'shared');
/** The PDFs as the sweep parsed them, for the snapshot comparison after it. */
const parsedPdfs = new Map<string, ParsedDocument>();

function corpusFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (path.relative(SHARED_CORPUS, full) !== 'laws') walk(full);
      } else if (!/\.(jsonl|json)$/.test(entry.name) && !entry.name.endsWith('.expected.txt') && full !== path.join(SHARED_CORPUS, 'README.md')) {
        out.push(full);
      }
    }
  };
  walk(SHARED_CORPUS);
  return out.sort();
}

describeWithSharedCorpus('parse: the whole shared corpus (except laws/ and JSONL records)', () => {
  it('parses every file or rejects it with a one-line IngestError', async () => {
    const files = corpusFiles();
    expect(files.length).toBeGreaterThan(800);
    const crashes: string[] = [];
    const rejected: string[] = [];
    const warnings: string[] = [];
    let pages = 0;
    let pdfSeconds = 0;
    let passages = 0;
    const started = performance.now();
    for (const file of files) {
      const id = path.relative(SHARED_CORPUS, file);
      const t = performance.now();
      try {
        const doc = await parseFile(file, { passageMaxChars: 300, displayPath: id });
        for (const p of doc.paragraphs) if (doc.text.slice(p.start, p.end) !== p.text || p.text.includes('\n')) crashes.push(`${id}: paragraph ${p.index} offsets`);
        for (const p of doc.passages) if (doc.text.slice(p.start, p.end) !== p.text || p.text.length > 300 + OVERLAP_UNIT_CHARS) crashes.push(`${id}: passage ${p.id}`);
        if (new Set(doc.passages.map((p) => p.id)).size !== doc.passages.length) crashes.push(`${id}: duplicate passage ids`);
        if (doc.passages.length === 0 && !doc.needsOcr) crashes.push(`${id}: no passages`);
        passages += doc.passages.length;
        if (doc.format === 'pdf') {
          parsedPdfs.set(id, doc);
          pages += doc.pageCount ?? 0;
          pdfSeconds += (performance.now() - t) / 1000;
        }
        for (const w of doc.warnings) warnings.push(`${id}: ${w}`);
      } catch (error) {
        if (isIngestError(error) && !error.message.includes('\n')) rejected.push(error.message);
        else crashes.push(`${id}: ${error instanceof Error ? error.stack : String(error)}`);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `[corpus] ${files.length} files, ${passages} passages in ${seconds.toFixed(1)} s; `
      + `PDF: ${pages} pages in ${pdfSeconds.toFixed(1)} s = ${(pages / pdfSeconds).toFixed(1)} pages/s`,
    );
    console.log(`[corpus] rejected (${rejected.length}):\n  ${rejected.join('\n  ')}`);
    console.log(`[corpus] warnings (${warnings.length}):\n  ${warnings.join('\n  ')}`);
    expect(crashes).toEqual([]);
    // Only the text file that is nothing but "===PAGE n===" markers has no text.
    expect(rejected).toEqual(['01_招生细则_原文.txt：没有可提取的文本（no extractable text）']);
  });

  it('parses the PDFs as their reviewed snapshots say', async () => {
    const pdfs = corpusFiles().filter((file) => file.endsWith('.pdf'));
    expect(pdfs.length).toBeGreaterThanOrEqual(8);
    for (const file of pdfs) {
      const id = path.relative(SHARED_CORPUS, file);
      const doc = parsedPdfs.get(id) ?? (await parseFile(file, { passageMaxChars: 300, displayPath: id }));
      await expect(parseSnapshot(doc), id).toMatchFileSnapshot(path.join(SNAPSHOTS, `${id.replaceAll('/', '__')}.txt`));
    }
  });
});
