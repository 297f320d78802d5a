/**
 * Cleaning: visual lines as an extractor saw them → paragraphs (CleanBlock).
 *
 * Government PDFs and the text files made from them break lines in the middle
 * of sentences, print "— 3 —" page numbers and running headers between the
 * halves of a paragraph, and mark paragraph starts only by a two-character
 * indent. This stage undoes that: it drops page furniture, decides where a
 * paragraph starts (indent, short last line, sentence-final punctuation,
 * vertical gap, font change) and rejoins the lines of each paragraph, across
 * page boundaries too.
 */
import { continuesNumbering, matchEnumerator } from '../kb/text/numbering.ts';
import { CLAUSE_STOPS, CLOSING_BRACKETS, COLONS, CONTINUATION_START, endsWithMark, SENTENCE_STOPS } from '../kb/text/sentences.ts';
import { isWide, stripWhitespace } from '../kb/text/text.ts';
import type { CleanBlock, ExtractedDocument, PageSpan, TableRowMark } from '../kb/types.ts';

// ---------------------------------------------------------------------------
// Character-level normalisation (joinLines also serves the DOCX reader).

const DIGIT = /[0-9]/;

/**
 * Collapse whitespace to single spaces, then drop the spaces an extractor
 * inserted between CJK characters ("人 才" → "人才") and between a number and
 * its CJK unit ("5683 家" → "5683家", "截至 2023 年" → "截至2023年"). Spaces
 * between Latin words or between a Latin word and a number are kept
 * ("Windows 10"), and so is the space inside "0431 88690690".
 */
export function normaliseSpacing(text: string): string {
  const collapsed = text
    .replace(/[\u00a0\u2000-\u200b\u202f\u205f\u3000\t\f\v\r\n]/g, ' ')
    .replace(/\ufeff/g, '')
    .replace(/ {2,}/g, ' ')
    .trim();
  if (!collapsed.includes(' ')) return separateContactName(collapsed);
  let out = '';
  for (let i = 0; i < collapsed.length; i++) {
    const ch = collapsed[i]!;
    if (ch === ' ') {
      const before = out[out.length - 1] ?? '';
      const after = collapsed[i + 1] ?? '';
      const wideBefore = isWide(before);
      const wideAfter = isWide(after);
      const numericBefore = DIGIT.test(before) || before === '%';
      const numericAfter = DIGIT.test(after);
      if ((wideBefore && (wideAfter || numericAfter)) || (wideAfter && numericBefore)) {
        if (!separatesContactFields(out, collapsed.slice(i + 1))) continue;
      }
    }
    out += ch;
  }
  return separateContactName(out);
}

/**
 * PDF extractors lose the gap between the contact's name and the next label
 * ("联系人：刘众电话：…"); a name is two to four characters, so the label
 * after it can be told apart and the gap put back.
 */
function separateContactName(text: string): string {
  return text.replace(/(联系人[：:]\p{Script=Han}{2,4}?)(联系电话|电话|手机|办公电话)(?=[：:])/gu, '$1 $2');
}

/**
 * Labels of a contact line ("联系人：刘众 电话：0431-…"). The space before one
 * is the only thing between a name and the next field: without it the line
 * reads "刘众电话".
 */
const CONTACT_LABEL = /^(?:联系人|联系电话|联系方式|电话|手机|传真|邮箱|电子邮箱|邮编|地址|办公电话|咨询电话)[：:]/;

function separatesContactFields(before: string, after: string): boolean {
  // "联系 电话：" is one label letter-spaced, not a name and a label.
  return CONTACT_LABEL.test(after) && /\p{Script=Han}$/u.test(before) && !/(联系|咨询|办公|值班|移动|固定|电子)$/.test(before);
}

/**
 * Join two visual lines of one paragraph. Chinese needs nothing at a line
 * break; two Latin words broken across lines need their space back.
 */
export function joinLines(left: string, right: string): string {
  const pieces = [left];
  appendLine(pieces, right);
  return pieces.join('');
}

/**
 * joinLines onto a paragraph kept as pieces: a paragraph of thousands of
 * wrapped lines re-joined into one string per line took quadratic time (each
 * join re-read the whole paragraph so far).
 */
function appendLine(pieces: string[], right: string): void {
  while (pieces.length > 0 && !pieces[pieces.length - 1]!.trimEnd()) pieces.pop();
  if (pieces.length > 0) pieces[pieces.length - 1] = pieces[pieces.length - 1]!.trimEnd();
  const b = right.trimStart();
  if (pieces.length === 0) {
    pieces.push(b);
    return;
  }
  if (!b) return;
  const lastPiece = pieces[pieces.length - 1]!;
  const last = lastPiece[lastPiece.length - 1]!;
  const first = b[0]!;
  if (/[A-Za-z]/.test(last) && /[A-Za-z]/.test(first)) pieces.push(' ');
  else if (/[,;:!?]/.test(last) && /[A-Za-z]/.test(first)) pieces.push(' ');
  pieces.push(b);
}

/** Display width of a line in a monospace text file: CJK characters take two columns. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += isWide(ch) ? 2 : 1;
  return width;
}

// ---------------------------------------------------------------------------
// Page furniture.

/**
 * Page-number lines as Chinese documents print them: "— 3 —", "- 3 -", "–3–",
 * "第3页", "第 3 页 共 13 页", "3/13", "Page 3 of 13". GB/T 9704 prescribes
 * "— 3 —"; extractors turn the em dashes into any dash, or into "一".
 */
const PAGE_NUMBER_PATTERNS: RegExp[] = [
  /^[-—–―－‒_一~～·•]{1,3}\d{1,4}[-—–―－‒_一~～·•]{1,3}$/,
  /^第\d{1,4}页([,，/]?共\d{1,4}页)?$/,
  /^共\d{1,4}页第\d{1,4}页$/,
  /^\d{1,4}[/／]\d{1,4}$/,
  /^(page)?\d{1,4}(of\d{1,4})?$/i,
  /^[（(]\d{1,4}[)）]$/,
];

export function isPageNumberLine(text: string, allowBareNumber: boolean): boolean {
  const compact = stripWhitespace(text);
  if (!compact || compact.length > 16) return false;
  if (/^\d{1,4}$/.test(compact)) return allowBareNumber;
  return PAGE_NUMBER_PATTERNS.some((pattern) => pattern.test(compact));
}

/** Character-weighted mean confidence of the parts that have one (undefined when none does: text that was not OCR'd). */
export function meanConfidence(parts: Array<{ chars: number; confidence?: number | undefined }>): number | undefined {
  let weighted = 0;
  let chars = 0;
  for (const part of parts) {
    if (part.confidence === undefined) continue;
    weighted += part.confidence * part.chars;
    chars += part.chars;
  }
  return chars > 0 ? Math.round((weighted / chars) * 1000) / 1000 : undefined;
}

// ---------------------------------------------------------------------------
// Lines with the layout facts the paragraph decision needs.

interface Line {
  text: string;
  page: number;
  x?: number;
  right?: number;
  y?: number;
  fontSize?: number;
  /** Text formats: leading indentation in display columns. */
  indentColumns: number;
  /** Text formats: a blank line preceded this one. */
  blankBefore: boolean;
  /** OCR'd lines: the recogniser's mean character confidence. */
  confidence?: number;
  table?: TableRowMark;
}

/** A line that ends a sentence, a clause, or a lead-in (：), closing quote or bracket included. */
const SENTENCE_END = new RegExp(`[${SENTENCE_STOPS}${CLAUSE_STOPS}${COLONS}${CLOSING_BRACKETS}]$`);
const STRONG_SENTENCE_END = endsWithMark(SENTENCE_STOPS + COLONS);
/** Numbering that opens a heading or a list item (一、 （一） 1. （1） ① 第X章 …). */
const opensNumberedItem = (text: string) => matchEnumerator(text) !== undefined;

function indentColumns(raw: string): number {
  let columns = 0;
  for (const ch of raw) {
    if (ch === ' ' || ch === '\u00a0') columns += 1;
    else if (ch === '\u3000') columns += 2;
    else if (ch === '\t') columns += 4;
    else break;
  }
  return columns;
}

/**
 * Site furniture that web captures keep around the article: breadcrumbs,
 * footers, share and print bars. Only short lines are judged, so a paragraph
 * that merely mentions 联系我们 survives.
 */
const PAGE_CHROME = /(ICP备|版权所有|网站地图|联系我们|扫一扫|主办单位|^主办[：:]|承办[：:]|当前(所在的)?位置|浏览量|浏览次数|字号[：:]|^打印$|关闭窗口|无障碍|适老化|网站标识码|公网安备|分享到|^(A\+[大中小]){2,})/;

/**
 * Markdown syntax is formatting, not text; a line that is nothing but links
 * (a navigation bar) or site chrome is not text either (returns '').
 */
function stripMarkdown(line: string): string {
  const links = (line.match(/\]\(/g) ?? []).length;
  let text = line
    .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
    .replace(/\[([^\]]*)\]\(javascript:[^)]*\)/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/^\s{0,3}#{1,6}\s+/, '')
    .replace(/^\s{0,3}>\s?/, '')
    .replace(/^\s{0,3}[-*+]\s+(?=\S)/, '')
    .replace(/\*\*(.+?)\*\*/g, '$1')
    .replace(/(^|[^\w])_([^_\s][^_]*?)_(?=[^\w]|$)/g, '$1$2')
    .replace(/\*\*|__/g, '')
    // HTML comments are invisible in rendered Markdown (<!-- INFO END -->).
    .replace(/<!--.*?-->/g, '');
  if (/^\s*\|?[\s:|-]+\|[\s:|-]*$/.test(text)) return '';
  if (/^\s*\|.*\|\s*$/.test(text)) text = text.replace(/^\s*\||\|\s*$/g, '').replace(/\s*\|\s*/g, ' ');
  const visible = text.trim();
  if (links >= 2 && stripWhitespace(visible).length < links * 12) return '';
  if (visible.length < 120 && PAGE_CHROME.test(visible)) return '';
  return text;
}

function quantile(values: number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

function mode(values: number[], round = 1): number | undefined {
  const counts = new Map<number, number>();
  for (const v of values) {
    const key = Math.round(v / round) * round;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let best: number | undefined;
  let bestCount = 0;
  for (const [key, count] of counts) {
    if (count > bestCount || (count === bestCount && best !== undefined && key < best)) {
      best = key;
      bestCount = count;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------

/**
 * Lines repeated at the top or bottom of most pages (running headers,
 * footers, "机密" stamps). Digits are masked so "第 3 页" and "第 4 页" count
 * as the same line.
 */
function runningFurniture(pages: Line[][]): Set<string> {
  const withText = pages.filter((lines) => lines.length > 0);
  if (withText.length < 3) return new Set();
  const counts = new Map<string, number>();
  for (const lines of withText) {
    const edge = new Set<string>();
    for (const line of [...lines.slice(0, 2), ...lines.slice(-2)]) edge.add(furnitureKey(line.text));
    for (const key of edge) if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const threshold = Math.max(3, Math.ceil(withText.length * 0.5));
  return new Set([...counts].filter(([, count]) => count >= threshold).map(([key]) => key));
}

function furnitureKey(text: string): string {
  return stripWhitespace(text).replace(/\d+/g, '#');
}

function collectLines(doc: ExtractedDocument): Line[][] {
  return doc.pages.map((page) => {
    const lines: Line[] = [];
    let blankBefore = false;
    for (const source of page.lines) {
      const raw = doc.format === 'md' ? stripMarkdown(source.text) : source.text;
      if (!raw.trim() || /^===PAGE \d+===$/.test(raw.trim())) {
        blankBefore = true;
        continue;
      }
      lines.push({
        text: raw.trim(),
        page: page.number,
        x: source.x,
        right: source.right,
        y: source.y,
        fontSize: source.fontSize,
        indentColumns: indentColumns(raw),
        blankBefore,
        ...(source.confidence !== undefined ? { confidence: source.confidence } : {}),
        ...(source.table ? { table: source.table } : {}),
      });
      blankBefore = false;
    }
    return lines;
  });
}

function dropFurniture(pages: Line[][], paged: boolean): Line[][] {
  const furniture = paged ? runningFurniture(pages) : new Set<string>();
  return pages.map((lines) =>
    lines.filter((line, i) => {
      const atEdge = i < 2 || i >= lines.length - 2;
      if (line.table) return true;
      if (isPageNumberLine(line.text, paged && atEdge)) return false;
      if (atEdge && furniture.has(furnitureKey(line.text))) return false;
      return true;
    }),
  );
}

/** Layout facts of a PDF, measured on its own lines so no page size or font is assumed. */
interface PdfLayout {
  bodyFontSize: number;
  textRight: number;
  lineGap: number;
  leftMarginByPage: Map<number, number>;
  pageCentre: Map<number, number>;
}

function measurePdfLayout(doc: ExtractedDocument, lines: Line[]): PdfLayout {
  const sizes: number[] = [];
  for (const line of lines) for (let i = 0; i < Math.min(line.text.length, 60); i++) sizes.push(line.fontSize ?? 12);
  const bodyFontSize = mode(sizes, 0.5) ?? 12;
  const isBody = (line: Line) => Math.abs((line.fontSize ?? bodyFontSize) - bodyFontSize) < 1;
  const rights = lines.filter(isBody).map((line) => line.right ?? 0);
  const textRight = quantile(rights, 0.8) ?? 0;
  const gaps: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const a = lines[i - 1]!;
    const b = lines[i]!;
    if (a.page === b.page && a.y !== undefined && b.y !== undefined && isBody(a) && isBody(b) && b.y > a.y) gaps.push(b.y - a.y);
  }
  const lineGap = quantile(gaps, 0.3) ?? bodyFontSize * 1.5;
  const docMargin = mode(lines.filter(isBody).map((line) => line.x ?? 0), 1) ?? 0;
  const leftMarginByPage = new Map<number, number>();
  const byPage = new Map<number, Line[]>();
  for (const line of lines) {
    const pageLines = byPage.get(line.page);
    if (pageLines) pageLines.push(line);
    else byPage.set(line.page, [line]);
  }
  for (const [page, pageLines] of byPage) {
    // The left margin is the leftmost x that at least two body lines share:
    // a lone outdented line (a table cell, a stamp) must not move it.
    const xs = pageLines.filter(isBody).map((line) => Math.round(line.x ?? 0));
    const counts = new Map<number, number>();
    for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
    const shared = [...counts].filter(([, count]) => count >= 2).map(([x]) => x);
    const margin = shared.length > 0 ? Math.min(...shared) : docMargin;
    // Pages that start with a run of indented lines only must not take that
    // indent as their margin.
    leftMarginByPage.set(page, Math.min(margin, docMargin + bodyFontSize * 0.5));
  }
  const pageCentre = new Map<number, number>();
  for (const page of doc.pages) {
    if (page.width) pageCentre.set(page.number, page.width / 2);
  }
  return { bodyFontSize, textRight, lineGap, leftMarginByPage, pageCentre };
}

/** Whether a line opens a paragraph, and the layout facts the paragraph keeps from its first line. */
interface BreakDecision {
  start: boolean;
  indented: boolean;
  centered: boolean;
}

/** Decide, line by line, whether a PDF line opens a new paragraph. */
function pdfBreaks(lines: Line[], layout: PdfLayout): BreakDecision[] {
  const decisions: BreakDecision[] = [];
  const breaksAt = (i: number) => decisions[i]?.start ?? true;
  for (const [i, line] of lines.entries()) decisions.push(decide(line, i));
  return decisions;
  function decide(line: Line, i: number): BreakDecision {
    const font = line.fontSize ?? layout.bodyFontSize;
    const margin = layout.leftMarginByPage.get(line.page) ?? 0;
    const x = line.x ?? margin;
    const indented = x > margin + font * 0.6;
    const centre = layout.pageCentre.get(line.page);
    const centered = centre !== undefined && line.right !== undefined && x > margin + font * 2
      && Math.abs((x + line.right) / 2 - centre) < font * 1.5;
    const prev = lines[i - 1];
    if (!prev) return { start: true, indented, centered };
    const prevFont = prev.fontSize ?? layout.bodyFontSize;
    const samePage = prev.page === line.page;
    const gap = samePage && prev.y !== undefined && line.y !== undefined ? line.y - prev.y : undefined;
    // A title set larger than the body wraps onto a centred second line;
    // the lines belong together whatever their alignment.
    const largeType = prevFont >= layout.bodyFontSize * 1.2;
    if (largeType && Math.abs(prevFont - font) < 0.5 && gap !== undefined && gap > 0 && gap < font * 2.2) {
      return { start: false, indented, centered };
    }
    if (Math.abs(prevFont - font) >= 1) return { start: true, indented, centered };
    if (indented) return { start: true, indented, centered };
    // No paragraph starts with a comma or a closing bracket.
    if (CONTINUATION_START.test(line.text)) return { start: false, indented, centered };
    const prevRight = prev.right ?? layout.textRight;
    const prevMargin = layout.leftMarginByPage.get(prev.page) ?? 0;
    const prevFill = (prevRight - prevMargin) / Math.max(1, layout.textRight - prevMargin);
    // PDFs whose font is not embedded measure digits and Latin letters with
    // guessed widths, so a full line can end well short of the margin. Such a
    // line in mid-paragraph, without closing punctuation, is not a last line.
    const midParagraph = i >= 2 && !breaksAt(i - 1) && !SENTENCE_END.test(prev.text) && prevFill >= 0.7;
    if (prevRight < layout.textRight - prevFont * 1.5 && !midParagraph) return { start: true, indented, centered };
    if (STRONG_SENTENCE_END.test(prev.text) && prevRight < layout.textRight - prevFont * 0.6) return { start: true, indented, centered };
    if (gap !== undefined && (gap < 0 || gap > layout.lineGap * 1.7)) return { start: true, indented, centered };
    if (opensNumberedItem(line.text) && SENTENCE_END.test(prev.text)) return { start: true, indented, centered };
    return { start: false, indented, centered };
  }
}

/**
 * Plain text made from a PDF keeps the PDF's line breaks: most lines end at
 * the same column. Text typed as one line per paragraph does not; there every
 * line is a paragraph.
 */
function isHardWrapped(lines: Line[]): { wrapped: boolean; fullWidth: number } {
  const widths = lines.map((line) => line.indentColumns + displayWidth(line.text));
  const fullWidth = quantile(widths, 0.9) ?? 0;
  if (lines.length < 4 || fullWidth < 20 || fullWidth > 200) return { wrapped: false, fullWidth };
  const nearFull = widths.filter((w) => w >= fullWidth - 8 && w <= fullWidth + 8).length;
  return { wrapped: nearFull / lines.length >= 0.35, fullWidth };
}

function textBreaks(lines: Line[], wrapped: boolean, fullWidth: number): BreakDecision[] {
  // A reduce, not Math.min(...spread): a 50 MB text file has more lines than the call stack holds arguments.
  const baseIndent = lines.reduce((least, line) => Math.min(least, line.indentColumns), Infinity);
  const gaps = lines.slice(1).filter((line) => line.blankBefore).length;
  // In text converted from PDF a blank line often follows every line; only
  // sparse blank lines separate paragraphs.
  const blankLinesSeparate = gaps <= Math.max(1, (lines.length - 1) * 0.5);
  const widths = lines.map((line) => line.indentColumns + displayWidth(line.text));
  // Files stitched from several sources wrap each part at its own width (28
  // characters in a foreword, 35 in the body). Such a narrower column shows
  // as a width that most neighbouring lines share to within a character; a
  // line is measured against it. Indented first lines and lists also share
  // widths, so only a clearly narrower column held by 40% of the window counts.
  const localFullWidth = (at: number) => {
    const window = widths.slice(Math.max(0, at - 8), at + 9);
    const own = widths[at]!;
    let local = fullWidth;
    for (const w of window) {
      if (w >= local || w < own - 2 || w < fullWidth * 0.7 || w > fullWidth * 0.9) continue;
      const sharing = window.filter((v) => v <= w && v >= w - 2).length;
      if (sharing >= Math.max(4, window.length * 0.4)) local = w;
    }
    return local;
  };
  return lines.map((line, i) => {
    const indented = line.indentColumns >= baseIndent + 2;
    const prev = lines[i - 1];
    if (!prev || !wrapped) return { start: true, indented, centered: false };
    if (line.blankBefore && blankLinesSeparate) return { start: true, indented, centered: false };
    if (indented) return { start: true, indented, centered: false };
    if (CONTINUATION_START.test(line.text)) return { start: false, indented, centered: false };
    const prevWidth = widths[i - 1]!;
    // Table rows (fields apart by spaces) and contents lines ("一、总体要求 …… 3")
    // are measured against the whole file only.
    const tabular = /\S\s+\S.*\s+\S/.test(prev.text) || /[.．…·]{4,}\s*\d+$/.test(prev.text);
    const full = tabular ? fullWidth : localFullWidth(i - 1);
    // Digits and Latin letters are narrower in print than in a text file, so
    // a full line of the source can look up to three characters short here.
    if (prevWidth < Math.min(full - 6, full * 0.88)) return { start: true, indented, centered: false };
    if (continuesNumbering(prev.text, line.text)) return { start: true, indented, centered: false };
    if (opensNumberedItem(line.text) && SENTENCE_END.test(prev.text)) return { start: true, indented, centered: false };
    return { start: false, indented, centered: false };
  });
}

/**
 * Some plain-text collections store a whole document on one line, with a
 * space where each paragraph ended. A space between two CJK characters means
 * nothing inside a Chinese sentence, so in such long lines it is a paragraph
 * break — unless spaces are everywhere (letter-spaced text), where it is noise.
 */
function splitRunOnLine(text: string): string[] {
  if (text.length < 80) return [text];
  const headline = leadingHeadline(text);
  if (text.length < 200) return headline ? [headline, text.slice(headline.length).trimStart()] : [text];
  const rest = headline ? text.slice(headline.length).trimStart() : text;
  const parts = rest.split(/(?<=[\p{Script=Han}。！？：；”）】])[ \u3000]+(?=[\p{Script=Han}“（【])/u);
  const average = rest.length / parts.length;
  const body = parts.length >= 3 && average >= 12 ? parts : [rest];
  return headline ? [headline, ...body] : body;
}

/**
 * A news item stored on one line: its headline, a space, then the story,
 * which opens the way news stories do ("甘肃积极做好错峰返程疫情防控工作
 * 2月8日，甘肃省……"). A headline in two halves ("关于充分发挥税收职能作用
 * 助力打赢……的通知") has a space too, but no story opening after it.
 */
const STORY_OPENING = /^((\d{4}年)?\d{1,2}月\d{1,2}日|新华社|中新社|中新网|人民网|央视|本报|本网|近日|日前|近期|连日来|记者|据|为|在|因|自|受|随着|针对|当前|目前|根据|按照)/;
/** A headline naming a document ("……的通知", "……解读") needs no story opening after it. */
const DOCUMENT_HEADLINE = /(通知|通告|公告|解读|指南|意见|办法|方案|措施|解答|答问|决定|规定|细则|声明|倡议书)$/;

function leadingHeadline(text: string): string | undefined {
  const m = /^([^ \u3000。，,；;]{6,40})[ \u3000]+(?=[\p{Script=Han}“《【\d])/u.exec(text);
  if (!m) return undefined;
  const story = text.slice(m[0].length);
  // A story's first sentence soon reaches a comma ("疫情当前，为切实……"); the
  // second half of a title does not.
  if (!(STORY_OPENING.test(story) || DOCUMENT_HEADLINE.test(m[1]!) || /^[^ \u3000，。]{1,16}[，。]/u.test(story))) return undefined;
  const headline = m[1]!;
  const count = (of: RegExp) => (headline.match(of) ?? []).length;
  if (count(/\p{Script=Han}/gu) < 6 || opensNumberedItem(headline) || /^[\d〇○零一二三四五六七八九]{4}年/.test(headline)) return undefined;
  // A sentence broken at a space has an open 《, （ or “ where a headline has
  // none, or a number whose unit follows the space ("〔2023〕36 号").
  if (count(/《/g) !== count(/》/g) || count(/[（(]/g) !== count(/[）)]/g) || count(/“/g) !== count(/”/g)
    || /[\dA-Za-z]$/.test(headline)) return undefined;
  return headline;
}

/** A table row is a paragraph of its own whatever its layout: the reader already made it one line. */
function tableBlock(line: Line, paged: boolean): CleanBlock {
  const block: CleanBlock = { text: normaliseSpacing(line.text), table: line.table! };
  if (paged) block.pages = [line.page, line.page];
  if (line.confidence !== undefined) block.confidence = line.confidence;
  return block;
}

export function cleanDocument(doc: ExtractedDocument): CleanBlock[] {
  const pages = dropFurniture(collectLines(doc), doc.paged);
  const lines = pages.flat();
  if (lines.length === 0) return [];

  if (doc.linesAreParagraphs) {
    const blocks: CleanBlock[] = [];
    for (const line of lines) {
      if (line.table) {
        blocks.push(tableBlock(line, doc.paged));
        continue;
      }
      for (const part of splitRunOnLine(line.text)) {
        const text = normaliseSpacing(part);
        if (text) {
          blocks.push({
            text,
            ...(doc.paged ? { pages: [line.page, line.page] as PageSpan } : {}),
            ...(line.confidence !== undefined ? { confidence: line.confidence } : {}),
          });
        }
      }
    }
    return blocks;
  }

  const hasLayout = lines.some((line) => line.x !== undefined);
  const { wrapped, fullWidth } = hasLayout ? { wrapped: true, fullWidth: 0 } : isHardWrapped(lines);
  const breaks = hasLayout ? pdfBreaks(lines, measurePdfLayout(doc, lines)) : textBreaks(lines, wrapped, fullWidth);

  const blocks: CleanBlock[] = [];
  let current: {
    pieces: string[];
    first: number;
    last: number;
    indented: boolean;
    centered: boolean;
    fontSize?: number;
    confidences: Array<{ chars: number; confidence?: number }>;
  } | undefined;
  const flush = () => {
    if (!current) return;
    const joined = current.pieces.join('');
    const confidence = meanConfidence(current.confidences);
    for (const part of wrapped ? [joined] : splitRunOnLine(joined)) {
      const text = normaliseSpacing(part);
      if (!text) continue;
      const block: CleanBlock = { text };
      if (doc.paged) block.pages = [current.first, current.last];
      if (current.indented) block.indented = true;
      if (current.centered) block.centered = true;
      if (current.fontSize !== undefined) block.fontSize = current.fontSize;
      if (confidence !== undefined) block.confidence = confidence;
      blocks.push(block);
    }
    current = undefined;
  };
  lines.forEach((line, i) => {
    const decision = breaks[i]!;
    if (line.table) {
      flush();
      blocks.push(tableBlock(line, doc.paged));
      return;
    }
    if (decision.start || !current) {
      flush();
      current = {
        pieces: [line.text],
        first: line.page,
        last: line.page,
        indented: decision.indented,
        centered: decision.centered,
        fontSize: line.fontSize,
        confidences: [{ chars: line.text.length, confidence: line.confidence }],
      };
    } else {
      appendLine(current.pieces, line.text);
      current.last = line.page;
      current.confidences.push({ chars: line.text.length, confidence: line.confidence });
    }
  });
  flush();
  return blocks;
}
