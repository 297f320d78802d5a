/**
 * The team's own sample documents in corpus/ (replies and policies of the
 * fictional 东川省 and 青州市, as TXT, MD, PDF and DOCX): the front matter and
 * sign-off of each must come back as a reader sees them on the page.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ParsedDocument } from '../../kb/types.ts';
import { parseFile } from '../../ingest/parse.ts';

const CORPUS = path.resolve(import.meta.dirname, '..', '..', 'corpus');

function parse(name: string): Promise<ParsedDocument> {
  return parseFile(path.join(CORPUS, name), { passageMaxChars: 300, displayPath: name });
}

const roles = (doc: ParsedDocument, count: number) => doc.paragraphs.slice(0, count).map((p) => `${p.role}:${p.text}`);

describe('own corpus: front matter', () => {
  it('merges an issuer line and the 对…答复 line below the 文号 into one title (TXT)', async () => {
    const doc = await parse('对市人大十七届四次会议第0056号建议的答复-学前教育学位.txt');
    // The document is named by its subject; the title line it states stays the title paragraph.
    expect(doc.title).toBe('关于增加城区普惠性学前教育学位供给的建议（第0056号建议）的答复');
    expect(doc.kind).toBe('suggestion-reply');
    expect(doc.metadata.addressee).toBe('郑晓梅代表');
    expect(doc.metadata.proposer).toBe('郑晓梅');
    expect(roles(doc, 3)).toEqual([
      'docNumber:青教函〔2025〕31号',
      'title:青州市教育局对市人大十七届四次会议第0056号建议的答复',
      'addressee:郑晓梅代表：',
    ]);
  });

  it('takes the sender banner above the 文号 as masthead, and a title typed as two paragraphs as one (DOCX)', async () => {
    const doc = await parse('对省政协十二届三次会议第0352号提案的答复-灵活就业人员医保.docx');
    expect(doc.title).toBe('关于完善灵活就业人员医疗保障政策的建议（第0352号提案）的答复');
    expect(doc.kind).toBe('proposal-reply');
    expect(doc.metadata.addressee).toBe('陈慧敏委员');
    expect(doc.metadata.proposer).toBe('陈慧敏');
    expect(doc.metadata.issuer).toBe('东川省医疗保障局');
    expect(roles(doc, 4)).toEqual([
      'note:东川省医疗保障局',
      'docNumber:东医保函〔2025〕27号',
      'title:对省政协十二届三次会议第0352号提案的答复',
      'addressee:陈慧敏委员：',
    ]);
  });

  it('keeps the PDF letters\' banner out of their titles', async () => {
    const welfare = await parse('关于省政协十二届三次会议第0215号提案的答复-社区居家养老.pdf');
    expect(welfare.title).toBe('关于加快发展社区居家养老服务的建议（第0215号提案）的答复');
    expect(welfare.paragraphs[0]).toMatchObject({ role: 'note', text: '东川省民政厅' });
    expect(welfare.metadata).toMatchObject({ addressee: '许文清委员', proposer: '许文清', issuer: '东川省民政厅', date: '2025-06-27' });
    const lifts = await parse('对市人大十七届四次会议第0112号建议的答复-既有住宅加装电梯.pdf');
    expect(lifts.title).toBe('关于加快推进既有住宅加装电梯工作的建议（第0112号建议）的答复');
    expect(lifts.metadata).toMatchObject({ addressee: '韩立群代表', proposer: '韩立群', issuer: '青州市住房和城乡建设局' });
  });
});

describe('own corpus: issuer and date outside a sign-off', () => {
  it('reads 文号, issuer and date from the byline under a Markdown title', async () => {
    const doc = await parse('青州市城区内涝治理三年行动实施方案.md');
    expect(doc.title).toBe('青州市城区内涝治理三年行动实施方案（2025—2027年）');
    expect(doc.kind).toBe('policy');
    expect(doc.metadata).toMatchObject({ docNumber: '青政办发〔2025〕14号', issuer: '青州市人民政府办公室', date: '2025-04-08' });
    // The byline is front matter, not the first body paragraph.
    expect(doc.paragraphs[1]!.role).toBe('docNumber');
    expect(doc.paragraphs[2]!.role).toBe('body');
  });

  it('dates a 印发 notice by its own sign-off, which stands before the attached 办法', async () => {
    const doc = await parse('青州市普惠性民办幼儿园认定和扶持管理办法-通知.txt');
    expect(doc.metadata).toMatchObject({ docNumber: '青政办发〔2024〕21号', issuer: '青州市人民政府办公室', date: '2024-03-15' });
    expect(roles(doc, 7).slice(4)).toEqual(['signature:青州市人民政府办公室', 'date:2024年3月15日', 'note:（此件公开发布）']);
    // The attached 办法 keeps its chapters; the 施行 date in its last article is not the signing date.
    expect(doc.paragraphs[7]!.text).toBe('青州市普惠性民办幼儿园认定和扶持管理办法');
    expect(doc.paragraphs.filter((p) => p.role === 'heading').length).toBeGreaterThanOrEqual(7);
  });
});
