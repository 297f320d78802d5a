/**
 * OCR boxes → the visual lines the cleaning stage reads, in PDF points, so a
 * scanned page goes through the same paragraph, page-number and heading rules
 * as a typeset one.
 */
import type { SourceLine, SourcePage } from '../../../kb/types.ts';
import { isWide } from '../../../kb/text/text.ts';
import { meanConfidence } from '../../clean.ts';
import { buildLines, round, type PlacedItem } from '../layout.ts';
import { borderlessTableRules, mergeTableLines, placeTables, type Segment, type TablePage, type TableSequence } from '../ruled-tables.ts';

/** The ruling lines of the page, the page and the document's tables so far, for reading the tables on a scan. */
export interface PageTables {
  segments: Segment[];
  sequence: TableSequence;
  page: TablePage;
  /** The boxes may form a table with no rules at all (a picture of one): read it from their columns when no ruled table is found. */
  borderless?: boolean;
}
import type { OcrBox } from './paddle.ts';

/**
 * A line's type size, from its width per character: full-width glyphs are
 * one em wide, digits and Latin letters about half. The box height is a poor
 * measure — DBNet's margin around a long line is relatively smaller than
 * around a short one (on the scanned seed reply the 22 pt title's first line
 * measured 18 pt tall, its second line 25 pt).
 */
function ems(text: string): number {
  let count = 0;
  for (const ch of text) count += isWide(ch) ? 1 : 0.5;
  return count;
}

/**
 * Lines this many ems long or more measure their size reliably; shorter ones
 * (a paragraph's last line "下：", ending in punctuation whose ink is half
 * an em) take the size of the nearest reliable one.
 */
const RELIABLE_EMS = 6;
/** A detected box is a little taller than the type size of a short line (16 pt body text: 17–18 pt boxes). */
const BOX_HEIGHT_TO_SIZE = 0.9;
const OPENING_MARK = /^[“‘（《「『【〔]/u;
const CLOSING_MARK = /[。，、；：！？”’）》」』】〕]$/u;
/** Sizes within this ratio of each other are one type size: 三号 and 四号 (16 and 14 pt) differ by 14%. */
const SAME_SIZE_RATIO = 1.08;
/** A short line further than this from every measured size keeps its own estimate (a large 红头 of four characters). */
const SNAP_RATIO = 1.3;

/**
 * One size per type size across the OCR'd pages of a document. The cleaning
 * stage starts a paragraph at any change of a point or more — also across a
 * page break — so the few percent of noise in the estimates must go: each
 * line gets the character-weighted median of its cluster of similar sizes.
 */
export function harmoniseOcrFontSizes(pages: SourcePage[]): void {
  const lines = pages.filter((page) => page.ocrConfidence !== undefined).flatMap((page) => page.lines);
  const reliable = lines
    // A table row's text is its cells and their headings, not one line of type: its width says nothing of its size.
    .filter((line) => !line.table && ems(line.text) >= RELIABLE_EMS && line.fontSize !== undefined)
    .sort((a, b) => a.fontSize! - b.fontSize!);
  const centres: number[] = [];
  let cluster: SourceLine[] = [];
  const close = () => {
    const total = cluster.reduce((sum, line) => sum + line.text.length, 0);
    let seen = 0;
    const median = cluster.find((line) => (seen += line.text.length) * 2 >= total) ?? cluster[0]!;
    centres.push(median.fontSize!);
    cluster = [];
  };
  for (const line of reliable) {
    if (cluster.length > 0 && line.fontSize! > cluster[cluster.length - 1]!.fontSize! * SAME_SIZE_RATIO) close();
    cluster.push(line);
  }
  if (cluster.length > 0) close();
  if (centres.length === 0) return;
  for (const line of lines) {
    if (line.fontSize === undefined) continue;
    const size = line.fontSize;
    const nearest = centres.reduce((best, c) => (Math.abs(Math.log(c / size)) < Math.abs(Math.log(best / size)) ? c : best));
    if (Math.max(nearest / size, size / nearest) <= SNAP_RATIO) line.fontSize = round(nearest);
  }
}

const HAN = /\p{Script=Han}/u;
const FULL_WIDTH: Record<string, string> = { ',': '，', ':': '：', ';': '；', '?': '？', '!': '！', '(': '（', ')': '）' };

/**
 * The recogniser reads Chinese punctuation as its ASCII look-alike ("答复如下:",
 * "(联系人：刘众"). Next to a Chinese character it is the full-width mark; a
 * bracket pair around Chinese text is full-width too. Between digits and
 * Latin letters ("8:30", "f(x)") nothing changes.
 */
export function fullWidthPunctuation(text: string): string {
  const paired = text
    .replace(/\(([^()]*)\)/g, (match, inner: string) => (HAN.test(inner) ? `（${inner}）` : match))
    // The year of a 文号 is set in 六角括号 〔〕; the recogniser mixes in [ ] ［ ］ for either half.
    .replace(/[[［〔【](\d{4})[\]］〕】](?=\d{1,5}号)/gu, '〔$1〕');
  let out = '';
  for (let i = 0; i < paired.length; i++) {
    const ch = paired[i]!;
    const wide = FULL_WIDTH[ch];
    out += wide && (HAN.test(paired[i - 1] ?? '') || HAN.test(paired[i + 1] ?? '')) ? wide : ch;
  }
  return out;
}

/**
 * The page's lines from its OCR boxes; `pixelsPerPoint` is the scale the page
 * was rendered at. Their sizes are estimates until harmoniseOcrFontSizes has
 * seen the whole document.
 */
export function ocrPageLines(boxes: OcrBox[], pixelsPerPoint: number, tables?: PageTables): { lines: SourceLine[]; confidence?: number } {
  const items: PlacedItem[] = boxes.map((box) => ({
    text: fullWidthPunctuation(box.text.trim()),
    x: box.left / pixelsPerPoint,
    right: box.right / pixelsPerPoint,
    y: box.bottom / pixelsPerPoint,
    // Only for grouping boxes into lines by baseline; the line's size is measured below.
    fontSize: (box.bottom - box.top) / pixelsPerPoint,
    confidence: box.confidence,
  }));
  let placed = tables ? placeTables(items, tables.segments, tables.sequence, tables.page) : { rest: items, lines: [] };
  if (tables?.borderless && placed.lines.length === 0) {
    const rules = borderlessTableRules(items);
    if (rules.length > 0) placed = placeTables(items, [...tables.segments, ...rules], tables.sequence, tables.page);
  }
  const lines = buildLines(placed.rest);
  for (const line of lines) {
    if (line.x === undefined || line.right === undefined || line.fontSize === undefined) continue;
    const length = ems(line.text);
    const byWidth = (line.right - line.x) / Math.max(1, length);
    // A short line's width is mostly its last glyph's ink ("下：" is one and a half ems of ink), so its height counts too.
    const byHeight = line.fontSize * BOX_HEIGHT_TO_SIZE;
    const size = length >= RELIABLE_EMS ? byWidth : Math.max(byWidth, byHeight);
    line.fontSize = round(size);
    // Full-width marks are inked in one half of their em square (“ and （ in the right half; 。，” in the left);
    // a typeset PDF's line spans the squares, so the OCR'd line is made to as well.
    if (OPENING_MARK.test(line.text)) line.x = round(line.x - size / 2);
    if (CLOSING_MARK.test(line.text)) line.right = round(line.right + size / 2);
  }
  const all = mergeTableLines(lines, placed.lines);
  const confidence = meanConfidence(all.map((line) => ({ chars: line.text.length, confidence: line.confidence })));
  return confidence === undefined ? { lines: all } : { lines: all, confidence };
}
