/**
 * The reply typeset as an official letter (PDF and DOCX), and a real 13-page
 * government work report: paragraphs rejoined across lines and pages, page
 * numbers gone, headings found wherever they sit on the page.
 */
import fs from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import type { ParsedDocument } from '../../kb/types.ts';
import { parseFile } from '../../ingest/parse.ts';
import { OVERLAP_UNIT_CHARS } from '../../ingest/passages.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

const BODY_INDICES = [3, 5, 7, 9, 11, 13, 14, 15];
const HEADING_INDICES = [4, 6, 8, 10, 12];
const noSpace = (text: string) => text.replace(/\s+/g, '');

function expectedParagraphs(): string[] {
  return JSON.parse(fs.readFileSync(sharedPath('generated/提案答复-公文版式.paragraphs.json'), 'utf8'));
}

function checkOffsets(doc: ParsedDocument): void {
  for (const p of doc.paragraphs) expect(doc.text.slice(p.start, p.end)).toBe(p.text);
  for (const p of doc.passages) expect(doc.text.slice(p.start, p.end)).toBe(p.text);
}

describeWithSharedCorpus('parse: reply typeset as PDF', () => {
  let doc: ParsedDocument;
  beforeAll(async () => {
    doc = await parseFile(sharedPath('generated/提案答复-公文版式.pdf'), { passageMaxChars: 300, displayPath: 'generated/提案答复-公文版式.pdf' });
  });

  it('gives the eight body paragraphs and five headings exactly', () => {
    const expected = expectedParagraphs();
    const byText = new Map(doc.paragraphs.map((p) => [noSpace(p.text), p]));
    for (const i of BODY_INDICES) expect(byText.get(noSpace(expected[i]!))?.role, expected[i]).toBe('body');
    const headings = doc.paragraphs.filter((p) => p.role === 'heading').map((p) => noSpace(p.text));
    expect(headings).toEqual(HEADING_INDICES.map((i) => noSpace(expected[i]!)));
    expect(doc.file).toBe('generated/提案答复-公文版式.pdf');
  });

  it('matches every paragraph of the reference rendition, in order', () => {
    expect(doc.paragraphs.map((p) => noSpace(p.text))).toEqual(expectedParagraphs().map(noSpace));
  });

  it('reads the 文号 and the letter metadata', () => {
    expect(doc.metadata.docNumber).toBe('吉人社函〔2024〕126号');
    expect(doc.kind).toBe('proposal-reply');
    expect(doc.metadata.proposalNumber).toBe(26);
    expect(doc.metadata.issuer).toBe('吉林省人力资源和社会保障厅');
    expect(doc.metadata.date).toBe('2024-07-15');
    expect(doc.pageCount).toBe(4);
    // The PDF's text layer has no space between 刘众 and 电话.
    expect(doc.metadata.contact).toBe('（联系人：刘众 电话：0431-88690690）');
  });

  it('keeps page numbers out of paragraphs and reports both pages of a paragraph crossing a page', () => {
    for (const p of doc.paragraphs) {
      expect(p.text).not.toMatch(/[—–-]\s*\d+\s*[—–-]/);
      expect(p.pages).toBeDefined();
    }
    const crossing = doc.paragraphs.filter((p) => p.pages![0] !== p.pages![1]);
    expect(crossing.map((p) => p.pages)).toEqual([[2, 3], [3, 4]]);
    expect(noSpace(crossing[0]!.text)).toBe(noSpace(expectedParagraphs()[9]!));
    const wrapped = doc.paragraphs.find((p) => p.text.startsWith('四、'))!;
    expect(wrapped.role).toBe('heading');
    expect(wrapped.text.endsWith('的建议')).toBe(true);
    for (const passage of doc.passages) expect(passage.pages).toBeDefined();
    checkOffsets(doc);
  });
});

describeWithSharedCorpus('parse: reply as DOCX', () => {
  it('gives the same paragraphs and headings, without pages', async () => {
    const doc = await parseFile(sharedPath('generated/提案答复-公文版式.docx'), { passageMaxChars: 300 });
    const expected = expectedParagraphs();
    expect(doc.paragraphs.map((p) => noSpace(p.text))).toEqual(expected.map(noSpace));
    expect(doc.paragraphs.filter((p) => p.role === 'heading').map((p) => noSpace(p.text)))
      .toEqual(HEADING_INDICES.map((i) => noSpace(expected[i]!)));
    for (const i of BODY_INDICES) expect(doc.paragraphs[i]!.role).toBe('body');
    for (const p of doc.paragraphs) expect(p.pages).toBeUndefined();
    expect(doc.metadata.docNumber).toBe('吉人社函〔2024〕126号');
    expect(doc.metadata.proposer).toBe('宫健泽');
    checkOffsets(doc);
  });
});

describeWithSharedCorpus('parse: 2024年北京市政府工作报告.pdf', () => {
  let doc: ParsedDocument;
  beforeAll(async () => {
    doc = await parseFile(sharedPath('pdf/2024年北京市政府工作报告.pdf'), { passageMaxChars: 300 });
  });

  it('gives every passage its pages', () => {
    expect(doc.passages.length).toBeGreaterThan(50);
    for (const passage of doc.passages) {
      expect(passage.pages).toBeDefined();
      expect(passage.pages![0]).toBeGreaterThanOrEqual(1);
      expect(passage.pages![1]).toBeLessThanOrEqual(13);
      // The bound, plus the short unit a passage may repeat from the one before (ingest/passages.ts).
      expect(passage.text.length).toBeLessThanOrEqual(300 + OVERLAP_UNIT_CHARS);
    }
    checkOffsets(doc);
  });

  it('keeps the paragraph running from page 3 onto page 4 whole', () => {
    // Page 3 ends "……有序处置重点", page 4 goes on "企业风险，……".
    const p = doc.paragraphs.find((q) => q.text.includes('有序处置重点企业风险'));
    expect(p?.pages).toEqual([3, 4]);
    expect(p!.text.startsWith('六是坚持统筹发展和安全')).toBe(true);
  });

  it('finds the 一、 and （一） headings, including one at the foot of a page', () => {
    const headings = doc.paragraphs.filter((p) => p.role === 'heading');
    expect(headings.filter((h) => h.headingLevel === 1).map((h) => h.text)).toEqual(['一、2023年工作回顾', '二、2024年重点任务']);
    const sub = headings.filter((h) => h.headingLevel === 2);
    expect(sub.map((h) => h.text.slice(0, h.text.indexOf('）') + 1))).toEqual(
      ['（一）', '（二）', '（三）', '（四）', '（五）', '（六）', '（七）', '（八）', '（九）', '（十）', '（十一）'],
    );
    for (const h of sub) expect(h.headingPath[0]).toBe('二、2024年重点任务');
    // （七） is the last line of page 9; its first paragraph is on page 10.
    const seventh = sub[6]!;
    expect(seventh.pages).toEqual([9, 9]);
    const next = doc.paragraphs[seventh.index + 1]!;
    expect(next.pages![0]).toBe(10);
    expect(next.headingPath).toEqual(['二、2024年重点任务', seventh.text]);
  });
});
