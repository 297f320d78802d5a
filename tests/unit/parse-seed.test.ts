/**
 * The seed reply (text extracted from its PDF: lines broken mid-sentence, a
 * blank line after every line, paragraph starts marked by two spaces) must
 * come back as the letter it is: metadata, five sections, the body paragraphs
 * of the reference rendition word for word.
 */
import fs from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import type { ParsedDocument } from '../../kb/types.ts';
import { parseFile } from '../../ingest/parse.ts';
import { describeWithSharedCorpus, sharedPath } from '../support/shared-corpus.ts';

const SEED = 'seed/对省政协十三届二次会议第26号委员提案的答复.txt';
const BODY_INDICES = [3, 5, 7, 9, 11, 13, 14, 15];
const HEADING_INDICES = [4, 6, 8, 10, 12];

function noSpace(text: string): string {
  return text.replace(/\s+/g, '');
}

describeWithSharedCorpus('parse: seed reply txt', () => {
  const expected = (): string[] => JSON.parse(fs.readFileSync(sharedPath('generated/提案答复-公文版式.paragraphs.json'), 'utf8'));
  const parse = (): Promise<ParsedDocument> => parseFile(sharedPath(SEED), { passageMaxChars: 300, displayPath: SEED });
  let doc: ParsedDocument;
  beforeAll(async () => {
    doc = await parse();
  });

  it('recovers the metadata exactly', () => {
    expect(doc.kind).toBe('proposal-reply');
    expect(doc.metadata.session).toContain('十三届二次会议');
    expect(doc.metadata.proposalNumber).toBe(26);
    expect(doc.metadata.proposer).toBe('宫健泽');
    expect(doc.metadata.proposalTitle).toBe('关于加强我省创新创业人才队伍建设的建议');
    expect(doc.metadata.issuer).toBe('吉林省人力资源和社会保障厅');
    expect(doc.metadata.date).toBe('2024-07-15');
    expect(doc.metadata.cc).toEqual(['省政协提案委', '省政府办公厅']);
    // Named by its subject (issue 9), not only by the proposal's number; the stated title line stays the title paragraph.
    expect(doc.title).toBe('关于加强我省创新创业人才队伍建设的建议（第26号提案）的答复');
    expect(noSpace(doc.paragraphs.find((p) => p.role === 'title')!.text)).toBe('对省政协十三届二次会议第26号委员提案的答复');
    // The name and the next label stay apart.
    expect(doc.metadata.contact).toBe('（联系人：刘众 电话：0431-88690690）');
  });

  it('finds the five top-level sections 一、…五、 as headings', () => {
    const headings = doc.paragraphs.filter((p) => p.role === 'heading');
    expect(headings.map((h) => h.headingLevel)).toEqual([1, 1, 1, 1, 1]);
    expect(headings.map((h) => noSpace(h.text))).toEqual(HEADING_INDICES.map((i) => noSpace(expected()[i]!)));
    expect(headings.map((h) => h.text.slice(0, 2))).toEqual(['一、', '二、', '三、', '四、', '五、']);
  });

  it('returns the eight body paragraphs word for word, none with a line break', () => {
    const texts = doc.paragraphs.map((p) => noSpace(p.text));
    for (const i of BODY_INDICES) expect(texts).toContain(noSpace(expected()[i]!));
    for (const p of doc.paragraphs) expect(p.text).not.toMatch(/[\r\n]/);
    // Body paragraphs sit in their section.
    const second = doc.paragraphs.find((p) => noSpace(p.text) === noSpace(expected()[7]!))!;
    expect(second.headingPath).toEqual([expected()[6]]);
    expect(second.role).toBe('body');
  });

  it('offsets and passages point into the text; ids are stable across parses', async () => {
    for (const p of doc.paragraphs) expect(doc.text.slice(p.start, p.end)).toBe(p.text);
    expect(doc.passages.length).toBeGreaterThan(5);
    for (const passage of doc.passages) {
      expect(doc.text.slice(passage.start, passage.end)).toBe(passage.text);
      expect(passage.text.length).toBeLessThanOrEqual(300);
    }
    expect(new Set(doc.passages.map((p) => p.id)).size).toBe(doc.passages.length);
    expect((await parse()).passages.map((p) => p.id)).toEqual(doc.passages.map((p) => p.id));
  });
});
