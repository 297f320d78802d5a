/**
 * Visual lines from positioned runs of text, for every reader whose source
 * has layout: PDF text items, OFD text objects and OCR boxes all arrive as
 * runs with a left edge, a right edge, a baseline and a font size.
 *
 * Runs sharing a baseline form one line, ordered by x — the way pdf.js's own
 * text layer positions them. A government PDF typesets one visual line as
 * several runs (a run per font switch, a run per "〔2019〕" fragment, a
 * separate " " item).
 */
import type { SourceLine } from '../../kb/types.ts';
import { isWide } from '../../kb/text/text.ts';
import { meanConfidence } from '../clean.ts';

export interface PlacedItem {
  text: string;
  x: number;
  right: number;
  /** Baseline from the page top. */
  y: number;
  fontSize: number;
  /** OCR'd runs: the recogniser's mean character probability, 0–1. */
  confidence?: number;
}

/** The vertical middle of a run's glyphs, from its baseline `y` (y grows downwards): CJK ink sits ~0.35 em above the baseline. */
export function inkCentre(y: number, fontSize: number): number {
  return y - fontSize * 0.35;
}

/** Rounded to 0.01 pt: layout numbers are compared with tolerances, never exactly, and round numbers keep JSON dumps readable. */
export function round(value: number): number {
  return Math.round(value * 100) / 100;
}

export function isBlank(text: string): boolean {
  return text.trim() === '';
}

/**
 * Join the items of one visual line, left to right. A space goes in where the
 * source shows one (a whitespace item, or a gap wider than a third of the
 * font size between runs) but never between two CJK characters: Chinese is
 * set without spaces, and a gap there is letter-spacing or justification.
 */
function joinLineItems(items: PlacedItem[]): string {
  let text = '';
  let pendingSpace = false;
  let previous: PlacedItem | undefined;
  for (const item of items) {
    if (isBlank(item.text)) {
      pendingSpace = text.length > 0;
      continue;
    }
    if (previous) {
      // Simulated bold: the same run painted again a fraction of a point to the right.
      if (item.text === previous.text && Math.abs(item.x - previous.x) < previous.fontSize * 0.3) continue;
      const gap = item.x - previous.right;
      if (gap > Math.max(previous.fontSize, item.fontSize) * 0.33) pendingSpace = true;
    }
    const piece = item.text.replace(/\s+$/u, '');
    if (pendingSpace && !(isWide(text[text.length - 1]) && isWide(piece.trimStart()[0]))) {
      text += ' ';
    }
    text += text.endsWith(' ') ? piece.trimStart() : piece;
    pendingSpace = /\s$/u.test(item.text);
    previous = item;
  }
  return dropSpacesBetweenWide(text.trim());
}

/** "答 复" → "答复": letter-spaced titles carry real space characters between CJK glyphs. */
export function dropSpacesBetweenWide(text: string): string {
  if (!text.includes(' ')) return text;
  return text.replace(/(\S) +(?=(\S))/gu, (match, before: string, after: string) =>
    isWide(before) && isWide(after) ? before : match);
}

/** The font size covering most characters of the line. */
function dominantFontSize(items: PlacedItem[]): number {
  const weight = new Map<number, number>();
  for (const item of items) {
    const size = round(item.fontSize);
    weight.set(size, (weight.get(size) ?? 0) + item.text.trim().length);
  }
  let best = items[0]?.fontSize ?? 0;
  let bestWeight = -1;
  for (const [size, w] of weight) {
    if (w > bestWeight) {
      best = size;
      bestWeight = w;
    }
  }
  return best;
}

/**
 * Group horizontal items into visual lines by baseline. The tolerance is half
 * the larger font size: superscripts and mixed-size runs (a 16 pt body with a
 * 10 pt footnote mark) sit within it, while two consecutive lines are at
 * least a line-height (≥ 1 em) apart.
 */
export function buildLines(items: PlacedItem[]): SourceLine[] {
  const lines: SourceLine[] = [];
  for (const group of baselineGroups(items)) {
    const text = joinLineItems(group);
    if (!text) continue;
    const inked = group.filter((item) => !isBlank(item.text));
    const fontSize = dominantFontSize(inked);
    const baselineItem = inked.find((item) => round(item.fontSize) === fontSize) ?? inked[0]!;
    const line: SourceLine = {
      text,
      x: round(Math.min(...inked.map((item) => item.x))),
      right: round(Math.max(...inked.map((item) => item.right))),
      y: round(baselineItem.y),
      fontSize,
    };
    const confidence = meanConfidence(inked.map((item) => ({ chars: item.text.length, confidence: item.confidence })));
    if (confidence !== undefined) line.confidence = confidence;
    lines.push(line);
  }
  return lines;
}

/** The items of each visual line (see buildLines), top to bottom, each line's items left to right. */
export function baselineGroups(items: PlacedItem[]): PlacedItem[][] {
  const sorted = items
    .filter((item) => !isBlank(item.text) || item.right > item.x)
    .sort((a, b) => a.y - b.y || a.x - b.x);
  const groups: PlacedItem[][] = [];
  let current: PlacedItem[] = [];
  let lineY = 0;
  let lineSize = 0;
  for (const item of sorted) {
    if (current.length > 0 && Math.abs(item.y - lineY) <= Math.max(lineSize, item.fontSize) * 0.5) {
      current.push(item);
      if (!isBlank(item.text) && item.fontSize > lineSize) {
        lineY = item.y;
        lineSize = item.fontSize;
      }
      continue;
    }
    if (current.length > 0) groups.push(current);
    current = [item];
    lineY = item.y;
    lineSize = item.fontSize;
  }
  if (current.length > 0) groups.push(current);
  for (const group of groups) group.sort((a, b) => a.x - b.x);
  return groups;
}


