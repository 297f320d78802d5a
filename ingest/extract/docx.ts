/**
 * DOCX reader: word/document.xml, body paragraphs in document order, one
 * SourceLine per paragraph (`linesAreParagraphs`). Headers and footers are
 * page furniture and are not read. A table's rows become one line each with
 * their column headings (table.ts), so a row's facts stay together for
 * retrieval; a table without two rows of two filled cells (a layout box
 * around the text) gives its paragraphs one line each.
 * Text boxes (the 红头 of many templates) come out as their own lines, and
 * `mc:Fallback` is skipped because it repeats the text of `mc:Choice`.
 *
 * Automatic numbering (w:numPr on the paragraph or its style) is rendered
 * in front of the text, as Word shows it (see docx-numbering.ts).
 */
import type { ParseLimits } from '../../kb/config.ts';
import type { ExtractedDocument, SourceLine } from '../../kb/types.ts';
import { joinLines } from '../clean.ts';
import { IngestError } from '../errors.ts';
import { attribute, checkMarkupBounds, childElements, childNamed, findElement, ownText, parseXml, type DomNode } from './dom.ts';
import { ListNumbering, numberReference, styleNumbering, type NumberReference } from './docx-numbering.ts';
import { isDataTable, tableLines } from './table.ts';
import { cleanContainerTitle } from './title.ts';
import { ZipArchive, ZipEntryTooLarge, ZipFormatError } from './zip.ts';

/** Containers whose children are body-level content in order. */
const TRANSPARENT = new Set(['w:sdt', 'w:sdtContent', 'w:customXml', 'w:ins', 'w:moveTo', 'w:smartTag', 'w:hyperlink', 'w:fldSimple', 'mc:AlternateContent', 'mc:Choice']);
/** Elements whose text is not part of what the document says. */
const SKIPPED = new Set(['w:pPr', 'w:rPr', 'w:del', 'w:moveFrom', 'w:delText', 'w:instrText', 'w:delInstrText', 'mc:Fallback', 'w:footnoteReference', 'w:endnoteReference', 'w:commentReference']);

interface Collector {
  lines: SourceLine[];
  numbering: ListNumbering;
  /** Paragraph style id → the list it numbers. */
  styleLists: Map<string, NumberReference>;
  /** Tables read so far in the document (a nested table counts too): the next one's number. */
  tables: { count: number };
}

function withLines(collector: Collector, lines: SourceLine[] = []): Collector {
  return { ...collector, lines };
}

/** The list number Word shows in front of this paragraph, or ''. */
function paragraphNumber(paragraph: DomNode, out: Collector): string {
  const properties = childNamed(paragraph, 'w:pPr');
  const direct = numberReference(properties);
  if (direct?.numId === '0') return '';
  const styleId = attribute(childNamed(properties, 'w:pStyle'), 'w:val');
  const fromStyle = styleId ? out.styleLists.get(styleId) : undefined;
  const numId = direct?.numId ?? fromStyle?.numId;
  if (numId === undefined) return '';
  return out.numbering.next({ numId, ilvl: direct?.ilvl ?? fromStyle?.ilvl ?? 0 });
}

/** The visible text of one paragraph; nested text boxes go to `boxes` as separate paragraphs. */
function paragraphText(paragraph: DomNode, boxes: Collector): string {
  let text = '';
  const walk = (node: DomNode): void => {
    for (const child of childElements(node)) {
      const name = child.name ?? '';
      if (SKIPPED.has(name)) continue;
      if (name === 'w:t') text += ownText(child);
      else if (name === 'w:tab' || name === 'w:ptab') text += ' ';
      else if (name === 'w:br' || name === 'w:cr') text += '\n';
      else if (name === 'w:noBreakHyphen') text += '-';
      else if (name === 'w:txbxContent') readBlocks(child, boxes);
      else walk(child);
    }
  };
  walk(paragraph);
  // A soft line break inside a paragraph is layout (a title set on two lines), not a new paragraph.
  return text.split('\n').reduce((joined, part) => joinLines(joined, part), '').trim();
}

function readParagraph(paragraph: DomNode, out: Collector): void {
  const number = paragraphNumber(paragraph, out);
  const boxes = withLines(out);
  const text = paragraphText(paragraph, boxes);
  out.lines.push(...boxes.lines);
  if (text) out.lines.push({ text: number + text });
}

/** Child elements with this name, also those one transparent container down (a content control around a row or a cell). */
function childrenThrough(node: DomNode, name: string): DomNode[] {
  return childElements(node).flatMap((child) =>
    child.name === name ? [child] : TRANSPARENT.has(child.name ?? '') ? childElements(child).filter((inner) => inner.name === name) : []);
}

/** Columns a cell spans (w:gridSpan). */
function gridSpan(cell: DomNode): number {
  const span = Number(attribute(childNamed(childNamed(cell, 'w:tcPr'), 'w:gridSpan'), 'w:val'));
  return Number.isInteger(span) && span > 1 && span < 64 ? span : 1;
}

/** A row marked "repeat as header row at the top of each page" (w:tblHeader) is a heading row. */
function isHeaderRow(row: DomNode): boolean {
  const flag = childNamed(childNamed(row, 'w:trPr'), 'w:tblHeader');
  return flag !== undefined && !['0', 'false', 'off'].includes(attribute(flag, 'w:val') ?? '');
}

function readTable(table: DomNode, out: Collector): void {
  const rows = childrenThrough(table, 'w:tr');
  const cellLines = rows.map((row) => childrenThrough(row, 'w:tc').map((cell) => {
    const collected = withLines(out);
    readBlocks(cell, collected);
    return { lines: collected.lines, span: gridSpan(cell) };
  }));
  const grid = cellLines.map((cells) => cells.flatMap(({ lines, span }) => {
    const text = lines.map((line) => line.text).join(' ');
    return [text, ...Array<string>(span - 1).fill(text)];
  }));
  if (!isDataTable(grid)) {
    // A layout table: its cells' paragraphs are read as the page's own.
    for (const cells of cellLines) for (const { lines } of cells) out.lines.push(...lines);
    return;
  }
  let headerRows = 0;
  while (headerRows < rows.length && isHeaderRow(rows[headerRows]!)) headerRows++;
  out.lines.push(...tableLines({ rows: grid, headerRows: headerRows > 0 ? headerRows : 'guess' }, out.tables.count++));
}

function readBlocks(container: DomNode, out: Collector): void {
  for (const child of childElements(container)) {
    const name = child.name ?? '';
    if (name === 'w:p') readParagraph(child, out);
    else if (name === 'w:tbl') readTable(child, out);
    else if (TRANSPARENT.has(name)) readBlocks(child, out);
  }
}

function damaged(file: string, cause: unknown): IngestError {
  return new IngestError(file, 'DOCX 文件已损坏或不完整（damaged or truncated DOCX）', cause);
}

export function extractDocx(bytes: Uint8Array, file: string, limits: Pick<ParseLimits, 'maxInflatedMb' | 'maxDepth' | 'maxNodes'>): ExtractedDocument {
  let archive: ZipArchive;
  let documentXml: string | undefined;
  try {
    archive = new ZipArchive(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), limits.maxInflatedMb * 1024 * 1024);
    documentXml = archive.readText('word/document.xml');
  } catch (error) {
    if (error instanceof ZipEntryTooLarge) {
      throw new IngestError(file, `${error.entry} 解压后超过 ${limits.maxInflatedMb} MiB 上限（KB_PARSE_MAX_INFLATED_MB; zip bomb?）`, error);
    }
    if (error instanceof ZipFormatError || error instanceof RangeError) throw damaged(file, error);
    throw error;
  }
  if (documentXml === undefined) {
    throw new IngestError(file, '不是 Word 文档：压缩包里没有 word/document.xml（not a DOCX）');
  }
  checkMarkupBounds(documentXml, limits, file, false);
  const root = parseXml(documentXml);
  const body = findElement(root, 'w:body');
  if (!body) throw damaged(file, new Error('word/document.xml has no w:body'));
  let numbering = new ListNumbering(undefined);
  let styleLists = new Map<string, NumberReference>();
  try {
    const part = (name: string): string | undefined => {
      const xml = archive.readText(name);
      if (xml) checkMarkupBounds(xml, limits, file, false);
      return xml;
    };
    numbering = new ListNumbering(part('word/numbering.xml'));
    styleLists = styleNumbering(part('word/styles.xml'));
  } catch (error) {
    if (!(error instanceof ZipFormatError)) throw error;
    // A damaged numbering or styles part costs only the automatic numbers.
  }
  const collected: Collector = { lines: [], numbering, styleLists, tables: { count: 0 } };
  readBlocks(body, collected);

  let titleHint: string | undefined;
  try {
    const core = archive.readText('docProps/core.xml');
    const title = core ? findElement(parseXml(core), 'dc:title') : undefined;
    titleHint = cleanContainerTitle(title ? ownText(title) : undefined);
  } catch {
    // Damaged document properties cost only the title hint.
  }
  const warnings: string[] = [];
  if (collected.lines.length === 0) warnings.push('文档中没有文字（可能只有图片，需要 OCR）');
  const result: ExtractedDocument = {
    format: 'docx',
    paged: false,
    linesAreParagraphs: true,
    pages: [{ number: 1, lines: collected.lines }],
    warnings,
  };
  if (titleHint) result.titleHint = titleHint;
  return result;
}
