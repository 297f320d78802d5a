/** OCR line repair and the KB_OCR switch: no recogniser runs here (tests/e2e/ocr.test.ts OCRs a page). */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../kb/config.ts';
import type { SourcePage } from '../../kb/types.ts';
import { fullWidthPunctuation, harmoniseOcrFontSizes } from '../../ingest/extract/ocr/lines.ts';
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

