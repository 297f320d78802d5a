/**
 * PDF extraction on real files: CMap fonts, the typeset reply with its
 * "—1—" footers, scans without a text layer, every PDF of the corpus, and the
 * bad inputs (truncated, encrypted, misnamed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExtractedDocument } from '../../kb/types.ts';
import { IngestError } from '../../ingest/errors.ts';
import { extractFile } from '../../ingest/extract/index.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'extract-pdf-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Each corpus PDF is extracted once per run: the scans cost seconds, and several tests look at the same file. */
const extracted = new Map<string, Promise<ExtractedDocument>>();
function extractOnce(file: string): Promise<ExtractedDocument> {
  let doc = extracted.get(file);
  if (!doc) {
    doc = extractFile(file);
    extracted.set(file, doc);
  }
  return doc;
}

function allText(doc: ExtractedDocument): string {
  return doc.pages.flatMap((page) => page.lines.map((line) => line.text)).join('\n');
}

function stripSpace(text: string): string {
  return text.replace(/\s+/g, '');
}

/** Share of the expected characters (as a multiset) that the extraction contains. */
function charRecall(expected: string, actual: string): number {
  const counts = new Map<string, number>();
  for (const ch of stripSpace(actual)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let found = 0;
  let total = 0;
  for (const ch of stripSpace(expected)) {
    total++;
    const left = counts.get(ch) ?? 0;
    if (left > 0) {
      found++;
      counts.set(ch, left - 1);
    }
  }
  return total === 0 ? 0 : found / total;
}

const HAN_SPACE_HAN = /\p{Script=Han} +\p{Script=Han}/u;

describe('PDF bad input', () => {
  it('refuses an encrypted PDF with a one-line message naming the file', async () => {
    const error = await extractFile('tests/fixtures/encrypted.pdf').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestError);
    expect((error as IngestError).message).toMatch(/^encrypted\.pdf：.*已加密/);
    expect((error as IngestError).message).not.toContain('\n');
  });

  it('refuses a file named .pdf that is not a PDF', async () => {
    const file = path.join(tmp, '说明.pdf');
    fs.writeFileSync(file, '这不是 PDF，只是一段文字。\n');
    await expect(extractFile(file)).rejects.toThrow(/说明\.pdf：不是有效的 PDF/);
  });

  it('reads a PNG named .pdf as an image, and names a damaged one', async () => {
    const file = path.join(tmp, 'scan.pdf');
    fs.writeFileSync(file, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    await expect(extractFile(file)).rejects.toThrow(/^scan\.pdf：PNG 图片无法解码/);
  });
});

describeWithSharedCorpus('PDF extraction on the shared corpus', () => {
  it('reads the non-embedded CMap font (UniGB-UCS2-H) to ≥99% of the expected characters', async () => {
    const doc = await extractFile(sharedPath('generated', 'cmap-非嵌入字体.pdf'));
    const expected = fs.readFileSync(sharedPath('generated', 'cmap-非嵌入字体.expected.txt'), 'utf8');
    const text = allText(doc);
    expect(charRecall(expected, text)).toBeGreaterThanOrEqual(0.99);
    // Order too: the expected lines appear in sequence in the extraction.
    const expectedLines = expected.split('\n').map(stripSpace).filter(Boolean);
    const joined = stripSpace(text);
    const inOrder = expectedLines.filter((line) => joined.includes(line)).length;
    expect(inOrder / expectedLines.length).toBeGreaterThanOrEqual(0.99);
    expect(HAN_SPACE_HAN.test(text)).toBe(false);
  });

  it('gives the typeset reply as visual lines with layout, footers kept', async () => {
    const doc = await extractOnce(sharedPath('generated', '提案答复-公文版式.pdf'));
    expect(doc.format).toBe('pdf');
    expect(doc.paged).toBe(true);
    expect(doc.linesAreParagraphs).toBe(false);
    expect(doc.pages).toHaveLength(4);
    for (const page of doc.pages) {
      expect(page.width).toBeCloseTo(595.3, 0);
      expect(page.height).toBeCloseTo(841.9, 0);
      // The "—N—" footer is a line of its own at the bottom of its page.
      const footer = page.lines.find((line) => stripSpace(line.text) === `—${page.number}—`);
      expect(footer, `footer of page ${page.number}`).toBeDefined();
      expect(footer!.y!).toBeGreaterThan(page.height! * 0.85);
      // Baselines go down the page.
      const ys = page.lines.map((line) => line.y!);
      expect([...ys].sort((a, b) => a - b)).toEqual(ys);
    }
    const first = doc.pages[0]!.lines;
    expect(first[0]!.text).toBe('吉人社函〔2024〕126 号');
    // Title in 22 pt, body in 16 pt; a paragraph's first line is indented two characters.
    const title = first.find((line) => line.text.startsWith('对省政协十三届二次会议'))!;
    expect(title.fontSize).toBe(22);
    const opening = first.find((line) => line.text.startsWith('您在省政协'))!;
    const continuation = first.find((line) => line.text.startsWith('创业人才队伍建设'))!;
    expect(opening.fontSize).toBe(16);
    expect(opening.x! - continuation.x!).toBeCloseTo(32, 0);
    expect(continuation.right!).toBeGreaterThan(500);
    const text = allText(doc);
    expect(HAN_SPACE_HAN.test(text)).toBe(false);
    const paragraphs: string[] = JSON.parse(fs.readFileSync(sharedPath('generated', '提案答复-公文版式.paragraphs.json'), 'utf8'));
    expect(charRecall(paragraphs.join(''), text)).toBeGreaterThanOrEqual(0.99);
    expect(doc.warnings).toEqual([]);
  });

  it.each([
    ['generated/提案答复-扫描件.pdf', 4],
    ['pdf/标点符号用法GBT15834-2011-扫描件.pdf', 25],
  ])('marks the pages of %s as image-only and warns for each', async (relative, pageCount) => {
    const doc = await extractOnce(sharedPath(...relative.split('/')));
    expect(doc.pages).toHaveLength(pageCount);
    for (const page of doc.pages) {
      expect(page.imageOnly).toBe(true);
      expect(page.lines).toEqual([]);
      expect(doc.warnings).toContain(`第${page.number}页没有文本层，需要 OCR`);
    }
  });

  it('reads every PDF of the corpus without crashing, CJK unspaced', async () => {
    const files = [
      ...fs.readdirSync(sharedPath('pdf')).map((name) => sharedPath('pdf', name)),
      ...fs.readdirSync(sharedPath('generated')).filter((name) => name.endsWith('.pdf')).map((name) => sharedPath('generated', name)),
    ];
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const file of files) {
      const doc = await extractOnce(file);
      expect(doc.pages.length, file).toBeGreaterThan(0);
      const text = allText(doc);
      expect(HAN_SPACE_HAN.test(text), file).toBe(false);
      for (const page of doc.pages) {
        for (const line of page.lines) {
          expect(line.text.trim(), file).toBe(line.text);
          expect(line.text.length).toBeGreaterThan(0);
          expect(Number.isFinite(line.x) && Number.isFinite(line.y) && Number.isFinite(line.fontSize), file).toBe(true);
        }
      }
    }
  });

  it('keeps the Beijing report text and its numbers', async () => {
    const doc = await extractOnce(sharedPath('pdf', '2024年北京市政府工作报告.pdf'));
    expect(doc.pages).toHaveLength(13);
    const text = allText(doc);
    expect(text).toContain('各位代表：');
    expect(stripSpace(text)).toContain('全市地区生产总值增长5.2%');
    expect(doc.pages.every((page) => !page.imageOnly)).toBe(true);
  });

  it('warns about the figure pages of GB/T 9704 that carry only a page number', async () => {
    const doc = await extractOnce(sharedPath('pdf', '党政机关公文格式GBT9704-2012.pdf'));
    expect(doc.warnings).toContain('第12页主要是图片，文字层不完整，可能需要 OCR');
    expect(doc.warnings.some((warning) => warning.startsWith('第3页'))).toBe(false);
    // Its Info Title is a leftover of another document ("甘审办发〔2011〕号") and is not offered as a hint.
    expect(doc.titleHint).toBeUndefined();
  });

  it.each([0.5, 0.9, 0.99])('refuses the typeset reply cut to %s of its bytes as damaged', async (share) => {
    const bytes = fs.readFileSync(sharedPath('generated', '提案答复-公文版式.pdf'));
    const file = path.join(tmp, `截断-${share}.pdf`);
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * share)));
    const error = await extractFile(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestError);
    expect((error as Error).message).toMatch(new RegExp(`^截断-${share}\\.pdf：PDF 文件已损坏或不完整`));
  });

  it('routes a PDF saved with a .txt name to the PDF reader and says so', async () => {
    const file = path.join(tmp, '附件.txt');
    fs.copyFileSync(sharedPath('generated', 'cmap-非嵌入字体.pdf'), file);
    const doc = await extractFile(file);
    expect(doc.format).toBe('pdf');
    expect(doc.warnings[0]).toMatch(/扩展名是 \.txt，但内容是 PDF/);
  });
});
