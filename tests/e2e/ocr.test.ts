/**
 * OCR: scanned pages and image files read through the same clean → structure
 * → passages pipeline. One page of the scanned seed reply is OCR'd here (the
 * whole-document and GB/T 15834 character error rates are measured by
 * `npm run eval:ocr`, which takes minutes).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { extractFile } from '../../ingest/extract/index.ts';
import { OcrPool } from '../../ingest/extract/ocr/pool.ts';
import { renderPdfPages } from '../../ingest/extract/pdf.ts';
import { parseBytes } from '../../ingest/parse.ts';
import { characterErrorRate } from '../../bench/ocr-eval.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

describeWithSharedCorpus('OCR on the scanned seed reply (one page)', () => {
  let tmp: string;
  let pool: OcrPool;
  let pagePng: Buffer;
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-ocr-'));
    pool = new OcrPool(1);
    const [image] = await renderPdfPages(fs.readFileSync(sharedPath('generated', '提案答复-扫描件.pdf')), [1]);
    pagePng = await sharp(image!.data, { raw: { width: image!.width, height: image!.height, channels: image!.channels } }).withMetadata({ density: 200 }).png().toBuffer();
  });
  afterAll(async () => {
    await pool.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('reads page 1 as a PNG: 文号, title, addressee, first heading, with confidence, within 1% CER', async () => {
    const doc = await parseBytes(pagePng, '第1页.png', { passageMaxChars: 300, ocr: pool });
    expect(doc.format).toBe('image');
    expect(doc.needsOcr).toBe(false);
    expect(doc.metadata.docNumber).toBe('吉人社函〔2024〕126号');
    expect(doc.metadata.session).toBe('省政协十三届二次会议');
    expect(doc.metadata.proposalNumber).toBe(26);
    expect(doc.metadata.proposer).toBe('宫健泽');
    expect(doc.paragraphs.find((p) => p.role === 'title')?.text).toBe('对省政协十三届二次会议第26号委员提案的答复');
    expect(doc.paragraphs.some((p) => p.role === 'heading' && p.text === '一、关于“落实‘人才强省’政策”的建议')).toBe(true);
    expect(doc.ocr?.pages).toBe(1);
    expect(doc.ocr!.confidence).toBeGreaterThan(0.9);
    for (const paragraph of doc.paragraphs) {
      expect(paragraph.pages).toEqual([1, 1]);
      expect(paragraph.confidence).toBeGreaterThan(0);
    }
    for (const passage of doc.passages) expect(passage.confidence).toBeGreaterThan(0);
    // Page 1 holds the reference's first seven paragraphs, ending with heading 二.
    const reference: string[] = JSON.parse(fs.readFileSync(sharedPath('generated', '提案答复-公文版式.paragraphs.json'), 'utf8'));
    expect(doc.paragraphs.at(-1)!.text).toBe(reference[6]);
    expect(characterErrorRate(doc.paragraphs.map((p) => p.text).join(''), reference.slice(0, 7).join(''))).toBeLessThanOrEqual(0.01);
  });

  it('leaves the page unread and flagged without OCR', async () => {
    const doc = await parseBytes(pagePng, '第1页.png', { passageMaxChars: 300 });
    expect(doc.needsOcr).toBe(true);
    expect(doc.passages).toEqual([]);
    expect(doc.warnings).toContain('第1页没有文本层，需要 OCR');
  });

  it('names a damaged image file', async () => {
    const file = path.join(tmp, '扫描.png');
    fs.writeFileSync(file, pagePng.subarray(0, 200));
    await expect(extractFile(file, { ocr: pool })).rejects.toThrow(/^扫描\.png：PNG 图片无法解码/);
  });
});
