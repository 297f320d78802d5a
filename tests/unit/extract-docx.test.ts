/**
 * DOCX extraction: the typeset reply's 22 paragraphs, tables and text boxes
 * of a document made for this test, and damaged or disguised files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExtractedDocument } from '../../kb/types.ts';
import { IngestError } from '../../ingest/errors.ts';
import { extractFile } from '../../ingest/extract/index.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'extract-docx-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function texts(doc: ExtractedDocument): string[] {
  return doc.pages.flatMap((page) => page.lines.map((line) => line.text));
}

async function failure(file: string): Promise<IngestError> {
  const error = await extractFile(file).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(IngestError);
  return error as IngestError;
}

describe('DOCX reader', () => {
  it('reads text boxes once, tables row by row, joins soft breaks, skips deletions, takes the core title', async () => {
    const doc = await extractFile('tests/fixtures/table-textbox.docx');
    expect(doc.format).toBe('docx');
    expect(doc.paged).toBe(false);
    expect(doc.linesAreParagraphs).toBe(true);
    expect(doc.titleHint).toBe('关于试行创业补贴的通知 & 附表');
    expect(texts(doc)).toEqual([
      '某某市人民政府办公室文件',
      '关于试行创业补贴的通知',
      '各区人民政府：',
      '现将补贴标准通知如下。',
      '项目 | 补贴标准',
      '项目：一次性创业补贴 | 补贴标准：每户1万元',
      '特此通知。',
    ]);
  });

  it('renders automatic numbering from lists and heading styles as Word shows it', async () => {
    const doc = await extractFile('tests/fixtures/numbered-headings.docx');
    expect(texts(doc)).toEqual([
      '关于推进数字政府建设的实施意见',
      '一、总体要求',
      '（一）工作目标',
      '到2025年，基本建成数字政府。',
      '（二）基本原则',
      '二、主要任务',
      '（一）加强协同',
      '1.统一平台',
      '2.统一标准',
      '电子证照',
      '保障措施',
    ]);
  });

  it('refuses an OLE file named .docx whose streams name no Word document', async () => {
    const file = path.join(tmp, '加密.docx');
    fs.writeFileSync(file, Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(504)]));
    expect((await failure(file)).message).toMatch(/^加密\.docx：是 OLE 复合文件，但不是 Word 文档/);
  });

  it('refuses a ZIP without word/document.xml', async () => {
    const file = path.join(tmp, '压缩包.docx');
    // An empty ZIP archive: just the end-of-central-directory record.
    fs.writeFileSync(file, Buffer.from('504b0506' + '00'.repeat(18), 'hex'));
    expect((await failure(file)).message).toMatch(/^压缩包\.docx：不是 Word 文档/);
  });
});

describeWithSharedCorpus('DOCX reader on the typeset reply', () => {
  it('yields exactly the 22 paragraphs a perfect extractor recovers', async () => {
    const doc = await extractFile(sharedPath('generated', '提案答复-公文版式.docx'));
    const expected: string[] = JSON.parse(fs.readFileSync(sharedPath('generated', '提案答复-公文版式.paragraphs.json'), 'utf8'));
    expect(texts(doc)).toEqual(expected);
    expect(doc.warnings).toEqual([]);
  });

  it.each([0.3, 0.8, 0.97])('refuses the reply cut to %s of its bytes as damaged', async (share) => {
    const bytes = fs.readFileSync(sharedPath('generated', '提案答复-公文版式.docx'));
    const file = path.join(tmp, `截断-${share}.docx`);
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * share)));
    expect((await failure(file)).message).toBe(`截断-${share}.docx：DOCX 文件已损坏或不完整（damaged or truncated DOCX）`);
  });

  it('reads a DOCX saved under a .txt name as DOCX and says so', async () => {
    const file = path.join(tmp, '答复.txt');
    fs.copyFileSync(sharedPath('generated', '提案答复-公文版式.docx'), file);
    const doc = await extractFile(file);
    expect(doc.format).toBe('docx');
    expect(doc.warnings).toEqual(['扩展名是 .txt，但内容是 DOCX，已按 DOCX 读取']);
  });
});
