/**
 * The numbering of Chinese official documents (第X编/章/节/条, 一、, （一）,
 * 1., （1）, ①): ingest builds the heading tree from it, and the precedent
 * finder cuts a pasted proposal into its suggestions by the same rules.
 */
export const CN_NUM = '[一二三四五六七八九十百零〇○两]';

/**
 * Numbering families in their conventional order of depth (GB/T 9704: 一、 →
 * （一） → 1. → （1）). Documents skip and mix levels, so the order is only a
 * tie-breaker; actual depth comes from the order headings appear in.
 */
export interface HeadingFamily {
  name: string;
  rank: number;
  pattern: RegExp;
  /** Longest text a heading of this family plausibly has. */
  maxLength: number;
}

const FAMILIES: HeadingFamily[] = [
  { name: 'bian', rank: 0, pattern: new RegExp(`^第${CN_NUM}+编`), maxLength: 40 },
  { name: 'part', rank: 0.5, pattern: new RegExp(`^第${CN_NUM}+部分`), maxLength: 40 },
  { name: 'zhang', rank: 1, pattern: new RegExp(`^第${CN_NUM}+章`), maxLength: 40 },
  { name: 'jie', rank: 2, pattern: new RegExp(`^第${CN_NUM}+节`), maxLength: 40 },
  { name: 'tiao', rank: 3, pattern: new RegExp(`^第${CN_NUM}+条(之${CN_NUM}+)?`), maxLength: 20 },
  { name: 'cn', rank: 4, pattern: new RegExp(`^${CN_NUM}{1,3}(?:[、．]|\\.(?!\\d))`), maxLength: 60 },
  { name: 'paren-cn', rank: 5, pattern: new RegExp(`^[（(]${CN_NUM}{1,3}[)）]`), maxLength: 60 },
  { name: 'arabic', rank: 6, pattern: /^\d{1,2}(?:[、．]|\.(?!\d))/, maxLength: 50 },
  { name: 'paren-arabic', rank: 7, pattern: /^[（(]\d{1,2}[)）]/, maxLength: 50 },
  { name: 'circled', rank: 8, pattern: /^[①-⑳]/, maxLength: 50 },
];

export interface HeadingMatch {
  family: HeadingFamily;
  /** The numbering itself (一、, （二）, 第三条). */
  label: string;
}

export function matchEnumerator(text: string): HeadingMatch | undefined {
  for (const family of FAMILIES) {
    const m = family.pattern.exec(text);
    if (m) return { family, label: m[0] };
  }
  return undefined;
}

