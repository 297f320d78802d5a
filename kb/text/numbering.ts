/**
 * Numbering of headings and list items in Chinese official documents
 * (GB/T 9704: 一、 → （一） → 1. → （1）, and 第X编/章/节/条, ①). The cleaning
 * stage asks whether a line opens a numbered item, the structure stage builds
 * the heading tree from the families, the answer stage finds the items of a
 * list; all from the patterns here.
 */

/** Chinese numerals as headings write them. */
export const CN_NUMERAL = '[一二三四五六七八九十百零〇○两]';

/**
 * Numbering families in their conventional order of depth. Documents skip and
 * mix levels, so the order is only a tie-breaker; actual depth comes from the
 * order headings appear in.
 */
export interface HeadingFamily {
  name: string;
  rank: number;
  pattern: RegExp;
  /** Longest text a heading of this family plausibly has. */
  maxLength: number;
}

/** The numbering of each family, without anchors, so patterns can place it. */
const NUMBERING = {
  bian: `第${CN_NUMERAL}+编`,
  part: `第${CN_NUMERAL}+部分`,
  zhang: `第${CN_NUMERAL}+章`,
  jie: `第${CN_NUMERAL}+节`,
  tiao: `第${CN_NUMERAL}+条(?:之${CN_NUMERAL}+)?`,
  cn: `${CN_NUMERAL}{1,3}(?:[、．]|\\.(?!\\d))`,
  parenCn: `[（(]${CN_NUMERAL}{1,3}[)）]`,
  arabic: `\\d{1,2}(?:[、．]|\\.(?!\\d))`,
  parenArabic: `[（(]\\d{1,2}[)）]`,
  circled: '[①-⑳]',
};

export const HEADING_FAMILIES: readonly HeadingFamily[] = [
  { name: 'bian', rank: 0, pattern: new RegExp(`^${NUMBERING.bian}`), maxLength: 40 },
  { name: 'part', rank: 0.5, pattern: new RegExp(`^${NUMBERING.part}`), maxLength: 40 },
  { name: 'zhang', rank: 1, pattern: new RegExp(`^${NUMBERING.zhang}`), maxLength: 40 },
  { name: 'jie', rank: 2, pattern: new RegExp(`^${NUMBERING.jie}`), maxLength: 40 },
  { name: 'tiao', rank: 3, pattern: new RegExp(`^${NUMBERING.tiao}`), maxLength: 20 },
  { name: 'cn', rank: 4, pattern: new RegExp(`^${NUMBERING.cn}`), maxLength: 60 },
  { name: 'paren-cn', rank: 5, pattern: new RegExp(`^${NUMBERING.parenCn}`), maxLength: 60 },
  { name: 'arabic', rank: 6, pattern: new RegExp(`^${NUMBERING.arabic}`), maxLength: 50 },
  { name: 'paren-arabic', rank: 7, pattern: new RegExp(`^${NUMBERING.parenArabic}`), maxLength: 50 },
  { name: 'circled', rank: 8, pattern: new RegExp(`^${NUMBERING.circled}`), maxLength: 50 },
];

export interface EnumeratorMatch {
  family: HeadingFamily;
  /** The numbering itself (一、, （二）, 第三条). */
  label: string;
}

/** The numbering a line opens with, if any. */
export function matchEnumerator(text: string): EnumeratorMatch | undefined {
  for (const family of HEADING_FAMILIES) {
    const m = family.pattern.exec(text);
    if (m) return { family, label: m[0] };
  }
  return undefined;
}

/** The ordinals of running text (一是, 第一，) that open list items but never headings. */
const ORDINAL = '[一二三四五六七八九十]';
const RUNNING_ORDINAL = `${ORDINAL}+是|第${ORDINAL}+[，、,]`;

/** A paragraph that opens a list item: （一）, 1., ①, 一是, 第一，. */
export const LIST_ITEM = new RegExp(
  `^(?:${NUMBERING.parenCn}|${NUMBERING.parenArabic}|\\d+[.、．]|${NUMBERING.circled}|${RUNNING_ORDINAL})`,
);

/** Text that enumerates inside itself: 一是…, （二）…, ②…. */
export const ENUMERATES = new RegExp(`${ORDINAL}是|${NUMBERING.parenCn}|${NUMBERING.parenArabic}|${NUMBERING.circled}`);

const SEQUENCE_LABEL = /^([（(]?)(\d{1,2}|[一二三四五六七八九十])([)）.．、]|\s)/;

/** "3.…声明" then "4.…通知书", "7 自动紧急避险" then "8 车辆定位": `line` is the next item of the list `prev` is in. */
export function continuesNumbering(prev: string, line: string): boolean {
  const a = SEQUENCE_LABEL.exec(prev);
  const b = SEQUENCE_LABEL.exec(line);
  if (!a || !b || a[1] !== b[1] || a[3]!.trim() !== b[3]!.trim()) return false;
  const value = (label: string) => (/\d/.test(label) ? Number(label) : '一二三四五六七八九十'.indexOf(label) + 1);
  return value(b[2]!) === value(a[2]!) + 1;
}
