import { describe, expect, it } from 'vitest';
import type { Paragraph } from '../../kb/types.ts';
import { buildPassages } from '../../ingest/passages.ts';

/** Paragraphs joined by "\n" with offsets, the way structure hands them over. */
function doc(parts: Array<{ text: string; role?: Paragraph['role']; headingPath?: string[]; pages?: [number, number] }>): { paragraphs: Paragraph[]; text: string } {
  let offset = 0;
  const paragraphs = parts.map((part, index) => {
    const p: Paragraph = { index, text: part.text, role: part.role ?? 'body', headingPath: part.headingPath ?? [], start: offset, end: offset + part.text.length };
    if (part.pages) p.pages = part.pages;
    offset = p.end + 1;
    return p;
  });
  return { paragraphs, text: paragraphs.map((p) => p.text).join('\n') };
}

const sentence = (n: number, mark = '。') => `${'政'.repeat(n - 1)}${mark}`;

describe('passages', () => {
  it('packs short paragraphs of one section together and never crosses a section', () => {
    const a = ['一、总体要求'];
    const b = ['二、主要任务'];
    const { paragraphs, text } = doc([
      { text: '一、总体要求', role: 'heading', headingPath: a },
      { text: sentence(40), headingPath: a, pages: [1, 1] },
      { text: sentence(30), headingPath: a, pages: [1, 2] },
      { text: '二、主要任务', role: 'heading', headingPath: b },
      { text: sentence(20), headingPath: b, pages: [2, 2] },
    ]);
    const passages = buildPassages(paragraphs, text, 300);
    expect(passages.map((p) => p.paragraphSpan)).toEqual([[1, 2], [4, 4]]);
    expect(passages[0]!.text).toBe(`${sentence(40)}\n${sentence(30)}`);
    expect(passages[0]!.pages).toEqual([1, 2]);
    expect(passages[0]!.headingPath).toEqual(a);
    for (const p of passages) expect(text.slice(p.start, p.end)).toBe(p.text);
  });

  it('cuts a long paragraph only between sentences, and a too-long sentence at a clause mark', () => {
    const long = [sentence(120), sentence(120), sentence(120)].join('');
    const clauses = `${'策'.repeat(199)}，${'策'.repeat(199)}。`;
    const { paragraphs, text } = doc([{ text: long }, { text: clauses }]);
    const passages = buildPassages(paragraphs, text, 300);
    for (const p of passages) {
      expect(p.text.length).toBeLessThanOrEqual(300);
      expect(text.slice(p.start, p.end)).toBe(p.text);
    }
    expect(passages.slice(0, 2).map((p) => p.text.length)).toEqual([240, 120]);
    expect(passages.slice(2).map((p) => p.text)).toEqual([`${'策'.repeat(199)}，`, `${'策'.repeat(199)}。`]);
  });

  it('does not leave a scrap when a paragraph runs just over the bound', () => {
    const text310 = Array.from({ length: 10 }, () => sentence(31)).join('');
    const { paragraphs, text } = doc([{ text: text310 }]);
    const passages = buildPassages(paragraphs, text, 300);
    // Cut in the middle (155 + 155); the second also repeats the first's last 31-character sentence.
    expect(passages.map((p) => p.text.length)).toEqual([155, 186]);
    expect(passages[1]!.start).toBe(passages[0]!.end - 31);
  });

  it('starts a passage with the previous passage’s last unit when that unit is short, so a list item cut off reads with the next', () => {
    const lead = sentence(250);
    const item1 = '路径1：打开浙里办APP首页→浙江省新型肺炎公共服务与管理平台';
    const item2 = `路径2：打开浙里办APP国民医疗健康专区→浙江省新型肺炎公共服务与管理平台${sentence(150)}`;
    const long = sentence(120);
    const { paragraphs, text } = doc([{ text: lead }, { text: item1 }, { text: item2 }, { text: long }]);
    const passages = buildPassages(paragraphs, text, 300);
    for (const p of passages) expect(text.slice(p.start, p.end)).toBe(p.text);
    expect(passages.map((p) => p.paragraphSpan)).toEqual([[0, 1], [1, 2], [3, 3]]);
    expect(passages[1]!.text.startsWith(`${item1}\n${item2}`)).toBe(true);
    // A long last unit (here item 2's 150-character sentence) is not repeated.
    expect(passages[2]!.text).toBe(long);
  });

  it('gives stable, unique ids derived from the content', () => {
    const { paragraphs, text } = doc([{ text: sentence(200) }, { text: sentence(200) }]);
    const first = buildPassages(paragraphs, text, 300);
    const again = buildPassages(paragraphs, text, 300);
    expect(first.map((p) => p.id)).toEqual(again.map((p) => p.id));
    expect(new Set(first.map((p) => p.id)).size).toBe(2);
    for (const p of first) expect(p.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('leaves headings and 此致 out of passages, and gives the closing block’s facts a passage of their own', () => {
    const { paragraphs, text } = doc([
      { text: '一、总体要求', role: 'heading', headingPath: ['一、总体要求'] },
      { text: sentence(50), headingPath: ['一、总体要求'] },
      { text: '此致。', role: 'closing' },
      { text: '2024年7月15日', role: 'date' },
    ]);
    const passages = buildPassages(paragraphs, text, 300);
    expect(passages.map((p) => p.text)).toEqual([sentence(50), '2024年7月15日']);
    expect(passages[1]!.headingPath).toEqual(['落款']);
  });
});
