/** OCR line repair and the KB_OCR switch: no recogniser runs here (tests/e2e/ocr.test.ts OCRs a page). */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../kb/config.ts';
import type { SourcePage } from '../../kb/types.ts';
import { fullWidthPunctuation, harmoniseOcrFontSizes, ocrPageLines, type PageTables } from '../../ingest/extract/ocr/lines.ts';
import type { OcrBox } from '../../ingest/extract/ocr/paddle.ts';
import { TableSequence } from '../../ingest/extract/ruled-tables.ts';
import { configuredOcr } from '../../ingest/extract/ocr/pool.ts';

describe('OCR text repair', () => {
  it('makes ASCII punctuation next to Chinese full-width, and leaves it between digits and Latin', () => {
    expect(fullWidthPunctuation('现答复如下:')).toBe('现答复如下：');
    expect(fullWidthPunctuation('(联系人：刘众电话：0431-88690690)')).toBe('（联系人：刘众电话：0431-88690690）');
    expect(fullWidthPunctuation('累计推送1.4万次,推送岗位')).toBe('累计推送1.4万次，推送岗位');
    expect(fullWidthPunctuation('8:30 f(x) a,b')).toBe('8:30 f(x) a,b');
    expect(fullWidthPunctuation('吉人社函〔2024]126号')).toBe('吉人社函〔2024〕126号');
    expect(fullWidthPunctuation('国办发[2019]12号')).toBe('国办发〔2019〕12号');
  });

  it('gives every OCR line of one type size the same size, across pages', () => {
    const line = (text: string, fontSize: number) => ({ text, x: 80, right: 520, y: 100, fontSize });
    const pages: SourcePage[] = [
      { number: 1, ocrConfidence: 0.99, lines: [line('对省政协十三届二次会议第26号委员提案的', 22.6), line('答复', 23.4), line('您在省政协十三届二次会议上提出的', 16.2), line('下：', 14.9)] },
      { number: 2, ocrConfidence: 0.99, lines: [line('库，涵盖了包括企业人才、技能人才在内的', 15.5), line('为进一步服务我省各领域培养', 16.9)] },
      { number: 3, lines: [line('文字层的行不变', 12)] },
    ];
    harmoniseOcrFontSizes(pages);
    const sizes = pages.map((page) => page.lines.map((l) => l.fontSize));
    expect(sizes[0]![0]).toBe(sizes[0]![1]);
    expect(new Set([sizes[0]![2], sizes[0]![3], ...sizes[1]!]).size).toBe(1);
    expect(sizes[0]![0]).toBeGreaterThan(sizes[0]![2]! * 1.2);
    expect(sizes[2]).toEqual([12]);
  });

  it('is off with KB_OCR=0', () => {
    expect(configuredOcr(loadConfig({ KB_OCR: '0' }))).toBeUndefined();
    expect(configuredOcr(loadConfig({}))).toBeDefined();
    expect(() => loadConfig({ KB_OCR: 'maybe' })).toThrow(/KB_OCR/);
  });
});


describe('a picture of a table without rules (OCR boxes only)', () => {
  const PX = 2;
  /** A box of Chinese text at (x, baseline) in points, 10 pt type, as the recogniser reports it in pixels. */
  const box = (text: string, x: number, y: number): OcrBox => ({ text, confidence: 0.95, left: x * PX, right: (x + [...text].length * 10) * PX, top: (y - 11) * PX, bottom: y * PX });
  const tables = (borderless: boolean): PageTables => ({ segments: [], sequence: new TableSequence(), page: { number: 1, width: 500, height: 700 }, borderless });

  it('rows by baseline, columns where the lines leave gaps, the first line as column headings; a wrapped cell joins its row', () => {
    const boxes = [
      box('错误类型', 60, 100), box('错误实例', 200, 100), box('正确写法', 340, 100),
      box('文种重复', 60, 125), box('《关于意见的函》', 200, 125), box('应删去“意见”', 340, 125),
      box('介词连用', 60, 150), box('《关于对的批复》', 200, 150), box('应删去“对”，', 340, 150),
      box('只留“关于”', 340, 165),
    ];
    const { lines } = ocrPageLines(boxes, PX, tables(true));
    expect(lines.map((line) => [line.table?.header, line.text])).toEqual([
      [true, '错误类型 | 错误实例 | 正确写法'],
      [false, '错误类型：文种重复 | 错误实例：《关于意见的函》 | 正确写法：应删去“意见”'],
      [false, '错误类型：介词连用 | 错误实例：《关于对的批复》 | 正确写法：应删去“对”，只留“关于”'],
    ]);
    expect(lines[1]!.confidence).toBeCloseTo(0.95);
    // Only where the caller says the boxes may be a rule-less table (a picture on a page, not a whole scan).
    expect(ocrPageLines(boxes, PX, tables(false)).lines.some((line) => line.table)).toBe(false);
  });

  it('prose stays prose: lines of one column are no grid', () => {
    const boxes = [
      box('标点符号是公文的有机组成部分，也是公文起草者', 60, 100),
      box('最容易忽视的部分。在实际的公文写作中，文笔', 60, 118),
      box('流畅但标点符号屡犯错误的情况也时有发生。', 60, 136),
    ];
    expect(ocrPageLines(boxes, PX, tables(true)).lines.map((line) => [line.table, line.text.length > 0])).toEqual([[undefined, true], [undefined, true], [undefined, true]]);
  });
});
