/**
 * Issue 13, items 1–3: each hostile file the probe used, generated here,
 * now fails alone with an error naming the limit it broke — parsed in this
 * thread (the root-cause caps) and through the worker pool (time and memory).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadParseLimits } from '../../kb/config.ts';
import { parseBytes } from '../../ingest/parse.ts';
import { docxBomb, docxNestedRuns, htmlNestedDivs, manyLinesText, pdfRepeatedKids, pdfRepeatedObjects } from '../../bench/hostile-files.ts';
import { pdfRescanBytes } from '../../ingest/extract/pdf.ts';
import { hasSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

const limits = loadParseLimits({});
const parse = (bytes: Uint8Array, file: string) => parseBytes(bytes, file, { passageMaxChars: 300, limits });

describe('caps refuse hostile files by name, in this thread', () => {
  it('a DOCX whose document.xml inflates past the limit (zip bomb)', async () => {
    await expect(parse(docxBomb(limits.maxInflatedMb + 6), '炸弹.docx'))
      .rejects.toThrow(`炸弹.docx：word/document.xml 解压后超过 ${limits.maxInflatedMb} MiB 上限（KB_PARSE_MAX_INFLATED_MB`);
  });

  it('a PDF whose page tree repeats its kids (/Count 2^31)', async () => {
    const pdf = pdfRepeatedKids(31);
    expect(pdf.length).toBeLessThan(4096);
    await expect(parse(pdf, '页树.pdf')).rejects.toThrow(`页树.pdf：PDF 声明有 2147483648 页，超过 ${limits.maxPages} 页上限（KB_PARSE_MAX_PAGES`);
  });

  it('counts what pdf.js would re-read for repeated object definitions: nothing for real PDFs, quadratic for the fuzzed shape', () => {
    expect(pdfRescanBytes(pdfRepeatedObjects(1))).toBe(0);
    const twice = pdfRescanBytes(pdfRepeatedObjects(1000));
    expect(pdfRescanBytes(pdfRepeatedObjects(2000)) / twice).toBeGreaterThan(3.5);
    for (const file of ['corpus', ...(hasSharedCorpus ? [sharedPath('pdf')] : [])].flatMap((dir) => fs.readdirSync(dir).filter((f) => f.endsWith('.pdf')).map((f) => path.join(dir, f)))) {
      expect(pdfRescanBytes(fs.readFileSync(file)), file).toBe(0);
    }
  });

  it('HTML with 100,000 nested <div>s', async () => {
    await expect(parse(htmlNestedDivs(100_000), '嵌套.html')).rejects.toThrow(`嵌套.html：元素嵌套超过 ${limits.maxDepth} 层上限（KB_PARSE_MAX_DEPTH`);
  });

  it('a DOCX with 200,000 nested runs (was a raw stack overflow)', async () => {
    await expect(parse(docxNestedRuns(200_000), '嵌套.docx')).rejects.toThrow(`嵌套.docx：元素嵌套超过 ${limits.maxDepth} 层上限（KB_PARSE_MAX_DEPTH`);
  });

  it('a text file of 5,000,000 lines', async () => {
    await expect(parse(manyLinesText(5_000_000), '行.txt')).rejects.toThrow(`行.txt：文本超过 ${limits.maxLines} 行上限（KB_PARSE_MAX_LINES`);
  });

  it('real nesting stays under the depth cap: a page nested 200 deep and a DOCX with runs inside hyperlinks still parse', async () => {
    const page = await parse(htmlNestedDivs(200), '深.html');
    expect(page.text).toContain('关于印发实施方案的通知');
    const docx = await parse(docxNestedRuns(100), '深.docx');
    expect(docx.text).toBe('正文');
  });
});
